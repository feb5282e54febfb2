"""E-mail templates and snippets. (Mailboxes and the suppression list are in ``mail``.)"""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.sequences import templates
from pipewise.sequences.models import EmailTemplate


class TemplateService:
    def get(self, session: Session, template_id: uuid.UUID) -> EmailTemplate:
        template = session.get(EmailTemplate, template_id)
        if template is None:
            raise NotFound(f"no template with id {template_id}")
        return template

    def all(self, session: Session, *, kind: str | None = None) -> list[EmailTemplate]:
        stmt = select(EmailTemplate).order_by(EmailTemplate.name)
        return list(session.scalars(stmt.where(EmailTemplate.kind == kind) if kind else stmt))

    def _validate(self, session: Session, data: dict[str, Any], record: EmailTemplate | None) -> None:
        errors = ErrorCollector()
        kind = data.get("kind") or (record.kind if record else "template")
        key = data.get("key", record.key if record else None)
        if kind == "snippet" and not key:
            errors.add("key", "a snippet needs a key, used as {{ snippets.<key> }}")
        if key:
            taken = session.scalar(select(EmailTemplate.id).where(EmailTemplate.key == key))
            if taken is not None and (record is None or taken != record.id):
                errors.add("key", f"a snippet with key {key!r} exists")
        templates.validate_parts(session, {k: data.get(k) for k in ("subject", "body_html", "body_text")}, errors)
        errors.raise_if_any()

    def create(self, session: Session, *, data: dict[str, Any], actor: Actor) -> EmailTemplate:
        self._validate(session, data, None)
        template = EmailTemplate(owner_id=None if actor is SYSTEM_ACTOR else actor.id, **data)
        session.add(template)
        session.flush()
        return template

    def update(self, session: Session, template_id: uuid.UUID, *, data: dict[str, Any], actor: Actor) -> EmailTemplate:
        template = self.get(session, template_id)
        if not (actor.is_manager or template.owner_id in (None, actor.id)):
            raise PermissionDenied("only the template's owner or a manager may change it")
        self._validate(session, data, template)
        for key, value in data.items():
            setattr(template, key, value)
        session.flush()
        return template

    def delete(self, session: Session, template_id: uuid.UUID, *, actor: Actor) -> None:
        template = self.get(session, template_id)
        if not (actor.is_manager or template.owner_id in (None, actor.id)):
            raise PermissionDenied("only the template's owner or a manager may delete it")
        session.delete(template)


template_service = TemplateService()
