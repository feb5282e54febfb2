"""Names and choices a page needs beside its records (owners, accounts, stages), read
through the services once per request so visibility rules apply here too."""

import uuid
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.service import user_service
from pipewise.auth.visibility import Actor
from pipewise.crm import custom_fields
from pipewise.crm.models import Account, Contact, CustomFieldDefinition
from pipewise.crm.service import account_service, contact_service
from pipewise.db.repository import MAX_PAGE, ListQuery
from pipewise.deals.models import Pipeline, Stage
from pipewise.deals.service import pipeline_service, stage_service


def ids_filter(ids: Iterable[uuid.UUID | None]) -> dict[str, Any]:
    return {"field": "id", "op": "in", "value": sorted({str(i) for i in ids if i is not None})}


class Lookups:
    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self._accounts: dict[uuid.UUID, Account] = {}

    # -- people --

    @cached_property
    def users(self) -> dict[uuid.UUID, User]:
        query = ListQuery(sort="name", limit=MAX_PAGE)
        return {u.id: u for u in user_service.list(self.session, actor=self.actor, query=query).items}

    @property
    def active_users(self) -> list[User]:
        return [u for u in self.users.values() if u.is_active]

    def user_name(self, user_id: uuid.UUID | None) -> str:
        user = self.users.get(user_id) if user_id else None
        return user.name if user else ("Pipewise" if user_id is None else "Former user")

    # -- accounts and contacts --

    def load_accounts(self, ids: Iterable[uuid.UUID | None]) -> None:
        """Fetch the named accounts the user may see, in one query, for ``account``."""
        wanted = ids_filter(i for i in ids if i not in self._accounts)
        if wanted["value"]:
            query = ListQuery(filter=wanted, limit=MAX_PAGE)
            for account in account_service.list(self.session, actor=self.actor, query=query).items:
                self._accounts[account.id] = account

    def account(self, account_id: uuid.UUID | None) -> Account | None:
        if account_id is None:
            return None
        if account_id not in self._accounts:
            self.load_accounts([account_id])
        return self._accounts.get(account_id)

    @cached_property
    def account_choices(self) -> list[Account]:
        query = ListQuery(sort="name", limit=MAX_PAGE)
        return list(account_service.list(self.session, actor=self.actor, query=query).items)

    @cached_property
    def contact_choices(self) -> list[Contact]:
        query = ListQuery(sort="last_name", limit=MAX_PAGE)
        return list(contact_service.list(self.session, actor=self.actor, query=query).items)

    # -- pipelines --

    @cached_property
    def pipelines(self) -> list[Pipeline]:
        query = ListQuery(sort="name", limit=MAX_PAGE)
        return list(pipeline_service.list(self.session, actor=self.actor, query=query).items)

    @cached_property
    def stages(self) -> dict[uuid.UUID, Stage]:
        query = ListQuery(sort="position", limit=MAX_PAGE)
        return {s.id: s for s in stage_service.list(self.session, actor=self.actor, query=query).items}

    def stages_of(self, pipeline_id: uuid.UUID) -> list[Stage]:
        return pipeline_service.stages(self.session, pipeline_id)

    def stage_name(self, stage_id: uuid.UUID | None) -> str:
        stage = self.stages.get(stage_id) if stage_id else None
        return stage.name if stage else "—"

    # -- custom fields --

    def custom_fields(self, record_type: str) -> list[CustomFieldDefinition]:
        return sorted(custom_fields.definitions(self.session, record_type).values(), key=lambda d: d.label.lower())
