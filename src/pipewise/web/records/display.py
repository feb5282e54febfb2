"""How a stored value reads on a page: owner ids become names, stage ids stage names,
amounts money; and timeline entries of every kind, including ones from later packages."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pipewise.records.timeline import TimelineEntry
from pipewise.web import formatting
from pipewise.web.lookups import Lookups

# Field names whose stored value is the id of another record, and the kind that names it.
REFERENCE_KINDS = {"owner_id": "user", "account_id": "account", "stage_id": "stage", "pipeline_id": "pipeline"}
ACTIVITY_ICONS = {"call": "☎", "email": "✉", "meeting": "◷", "note": "✎"}
KIND_ICONS = {"task": "☑", "change": "•"}


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    badge: bool = False
    muted: bool = False
    # Dates and times are formatted by the template, in the reader's time zone.
    at: date | datetime | None = None


EMPTY = Cell("—", muted=True)


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    icon: str
    title: str
    lines: list[str]
    detail: str | None
    actor: str
    at: datetime
    automated: bool


class Display:
    def __init__(self, lookups: Lookups) -> None:
        self.lookups = lookups

    def cell(self, record: Any, key: str, kind: str = "text", href: str | None = None) -> Cell:
        """The value of ``record.key`` as shown in a table cell or a details list."""
        if key.startswith("custom."):
            value = (getattr(record, "custom", None) or {}).get(key[7:])
        else:
            value = getattr(record, key, None)
        if kind == "title":
            return Cell(str(value or "(no name)"), href)
        if value is None or value == "":
            return EMPTY
        if kind == "user":
            return Cell(self.lookups.user_name(value))
        if kind == "account":
            account = self.lookups.account(value)
            return Cell(account.name, f"/accounts/{account.id}") if account else Cell("Hidden account", muted=True)
        if kind == "stage":
            return Cell(self.lookups.stage_name(value), badge=True)
        if kind == "pipeline":
            names = {p.id: p.name for p in self.lookups.pipelines}
            return Cell(names.get(value, "—"))
        if kind == "money":
            return Cell(formatting.money(value, getattr(record, "currency", "USD")))
        if kind == "email":
            return Cell(str(value), f"mailto:{value}")
        if kind in ("choice", "badge"):
            return Cell(formatting.label(str(value)), badge=True)
        if isinstance(value, (datetime, date)):
            return Cell("", at=value)
        return Cell(str(value))

    def value_text(self, field_name: str, value: Any) -> str:
        """One side of a change ('old → new') in words."""
        if value in (None, "", {}, []):
            return "—"
        kind = REFERENCE_KINDS.get(field_name)
        if kind is not None:
            try:
                record_id = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
            except ValueError:
                return str(value)
            if kind == "user":
                return self.lookups.user_name(record_id)
            if kind == "stage":
                return self.lookups.stage_name(record_id)
            if kind == "account":
                account = self.lookups.account(record_id)
                return account.name if account else "a hidden account"
            return "another pipeline"
        if isinstance(value, dict):
            return ", ".join(f"{formatting.label(k)}: {v}" for k, v in value.items())
        if isinstance(value, (Decimal, float, int)) and field_name == "amount":
            return formatting.money(Decimal(str(value)))
        return str(value)

    def timeline_item(self, entry: TimelineEntry) -> TimelineItem:
        """Any timeline entry as a card; kinds this module does not know show generically."""
        lines: list[str] = []
        title = entry.title
        if entry.kind == "change" and entry.data.get("action") == "updated":
            changes = entry.data.get("changes") or {}
            title = "Updated"
            for name, pair in changes.items():
                if name == "contacts" and isinstance(pair, list) and len(pair) == 2:
                    lines.append(_contact_link_change(*pair))
                elif isinstance(pair, list) and len(pair) == 2:
                    old, new = pair
                    lines.append(
                        f"{formatting.label(name)}: {self.value_text(name, old)} → {self.value_text(name, new)}"
                    )
                else:
                    lines.append(formatting.label(name))
        if entry.kind == "activity":
            icon = ACTIVITY_ICONS.get(str(entry.data.get("type")), "•")
        else:
            icon = KIND_ICONS.get(entry.kind, "★")
        return TimelineItem(
            kind=entry.kind,
            icon=icon,
            title=title,
            lines=lines,
            detail=entry.detail,
            actor=self.lookups.user_name(entry.actor_id),
            at=entry.at,
            automated=bool(entry.data.get("automated")) or entry.kind not in ("activity", "task", "change"),
        )


def _contact_link_change(old: Any, new: Any) -> str:
    """Deal-contact links are stored as {"added": id, "role": ...} / {"removed": id}."""
    if isinstance(new, dict) and new.get("added"):
        return "Contact added" + (f" as {new['role']}" if new.get("role") else "")
    if isinstance(old, dict) and old.get("removed"):
        return "Contact removed"
    return "Contacts changed"
