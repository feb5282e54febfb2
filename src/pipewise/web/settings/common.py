"""What the settings pages share: who may open them and the area's navigation."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from pipewise.errors import FieldError, PermissionDenied
from pipewise.web.common import WebUser
from pipewise.web.forms import checked


@dataclass(frozen=True)
class Section:
    href: str
    label: str
    hint: str
    audience: str = "admin"  # admin | manager | everyone


SECTIONS = (
    Section("/settings/users", "Users", "Invite people, set their role and team, reset a password, deactivate.", "manager"),
    Section("/settings/teams", "Teams", "Teams and their managers.", "manager"),
    Section("/settings/pipelines", "Pipelines and stages", "Stage order, probability, won and lost, required fields."),
    Section("/settings/fields", "Custom fields", "Extra fields on accounts, contacts, leads and deals."),
    Section("/settings/products", "Products", "The catalogue quotes are made of."),
    Section("/settings/price-books", "Price books", "Prices per segment, account, period and quantity."),
    Section("/settings/lead-forms", "Lead forms", "Web forms that capture leads, with a live preview.", "manager"),
    Section("/settings/scoring", "Scoring", "Fit rules, the MQL threshold and how fast engagement fades.", "manager"),
    Section("/settings/routing", "Routing and SLA", "Who gets which lead, and when it is reassigned.", "manager"),
    Section("/mail/mailbox", "Mailboxes", "Your sending address, send window and daily cap.", "everyone"),
    Section("/settings/webhooks", "Webhooks", "Send events to other systems, signed, retried, with a delivery log."),
    Section("/settings/tokens", "API tokens", "Bearer tokens for scripts and integrations.", "everyone"),
    Section("/notifications/settings", "Notifications", "Which notifications also come by e-mail.", "everyone"),
    Section("/settings/company", "Company", "Who sells, currency, tax, discounts and invoices."),
    Section("/settings/retention", "Retention", "What is deleted after how long, with a dry-run first."),
)


def may_open(me: WebUser, section: Section) -> bool:
    if section.audience == "everyone":
        return True
    return me.actor.is_admin or (section.audience == "manager" and me.actor.is_manager)


def sections_for(me: WebUser) -> list[Section]:
    return [s for s in SECTIONS if may_open(me, s)]


def require_admin(me: WebUser) -> None:
    if not me.actor.is_admin:
        raise PermissionDenied("only admins may change this")


def require_manager(me: WebUser) -> None:
    if not me.actor.is_manager:
        raise PermissionDenied("only managers and admins may open this page")


def schema_checked(
    schema: type[BaseModel], typed: dict[str, str], *, optional: Iterable[str] = (), extra: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """The typed values checked against the API's input schema as a whole: an empty field
    named in ``optional`` is left out, any other empty field is reported by the schema."""
    skip = set(optional)
    data: dict[str, Any] = {k: v for k, v in typed.items() if v or k not in skip}
    parsed, errors = checked(schema, {**data, **(extra or {})})
    if parsed is None:
        return data, errors
    return parsed.model_dump(exclude_unset=True), []
