"""Mailboxes, templates and snippets, and the suppression list."""

import uuid
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import SYSTEM_ACTOR, Actor
from pipewise.errors import ErrorCollector, NotFound, PermissionDenied
from pipewise.sequences import engine, templates
from pipewise.sequences.guards import normalize_address
from pipewise.sequences.models import EmailTemplate, Mailbox, Suppression


def _address(value: str, field_name: str, errors: ErrorCollector) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.add(field_name, str(exc))
        return None


class MailboxService:
    def get_for(self, session: Session, user_id: uuid.UUID) -> Mailbox | None:
        return session.scalar(select(Mailbox).where(Mailbox.user_id == user_id))

    def all(self, session: Session, *, actor: Actor) -> list[Mailbox]:
        stmt = select(Mailbox).order_by(Mailbox.from_address)
        if not actor.is_admin:
            stmt = stmt.where(Mailbox.user_id == actor.id)
        return list(session.scalars(stmt))

    def save(self, session: Session, *, data: dict[str, Any], actor: Actor) -> Mailbox:
        """Create or change a user's mailbox (one per user); only admins set up others'."""
        user_id = data.pop("user_id", None) or actor.id
        if user_id != actor.id and not actor.is_admin:
            raise PermissionDenied("only an admin may set up another user's mailbox")
        user = session.get(User, user_id)
        errors = ErrorCollector()
        if user is None:
            errors.add("user_id", f"no user with id {user_id}")
        if data.get("from_address"):
            data["from_address"] = _address(data["from_address"], "from_address", errors)
        start, end = data.get("send_start_hour"), data.get("send_end_hour")
        if start is not None and end is not None and start >= end:
            errors.add("send_end_hour", "must be after send_start_hour")
        if "send_days" in data and not data["send_days"]:
            errors.add("send_days", "pick at least one day")
        if data.get("smtp_username") and not (data.get("smtp_host")):
            errors.add("smtp_host", "a login needs the server it belongs to")
        errors.raise_if_any()
        mailbox = self.get_for(session, user_id)
        if mailbox is None:
            mailbox = Mailbox(user_id=user_id, from_name=user.name, from_address=user.email)
            session.add(mailbox)
        for key, value in data.items():
            if value is not None or key.startswith(("smtp_", "imap_", "signature")):
                setattr(mailbox, key, value)
        session.flush()
        return mailbox


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


class SuppressionService:
    def all(self, session: Session, *, limit: int = 500) -> list[Suppression]:
        return list(session.scalars(select(Suppression).order_by(Suppression.created_at.desc()).limit(limit)))

    def add(self, session: Session, *, address: str, reason: str, detail: str | None, actor: Actor) -> Suppression:
        errors = ErrorCollector()
        normalized = _address(address, "address", errors)
        errors.raise_if_any()
        return engine.suppress(session, normalized or address, reason=reason, detail=detail or f"added by {actor.name or actor.email}")

    def remove(self, session: Session, *, address: str, actor: Actor) -> None:
        if not actor.is_admin:
            raise PermissionDenied("only an admin may take an address off the suppression list")
        row = session.scalar(select(Suppression).where(Suppression.address == normalize_address(address)))
        if row is None:
            raise NotFound(f"{address} is not suppressed")
        session.delete(row)


mailbox_service = MailboxService()
template_service = TemplateService()
suppression_service = SuppressionService()
