"""How a stored value reads on a page: owner ids become names, stage ids stage names,
amounts money; and timeline entries of every kind, including ones from later packages."""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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


# Stored values of these fields are money (in the record's currency) or moments and days.
MONEY_FIELDS = frozenset({"amount", "price", "total", "unit_price"})


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class Display:
    def __init__(self, lookups: Lookups, tz: str = "UTC") -> None:
        self.lookups = lookups
        self.zone = _zone(tz)

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
        if kind == "tel":
            return Cell(str(value), "tel:" + "".join(ch for ch in str(value) if ch.isdigit() or ch == "+"))
        if kind in ("choice", "badge"):
            return Cell(formatting.label(str(value)), badge=True)
        if isinstance(value, (datetime, date)):
            return Cell("", at=value)
        return Cell(str(value))

    def moment_text(self, value: Any) -> str | None:
        """A stored date or time (an ISO string in history) as the reader's local date and time."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
            except ValueError:
                return None
        if isinstance(value, datetime):
            local = (value if value.tzinfo else value.replace(tzinfo=zoneinfo.ZoneInfo("UTC"))).astimezone(self.zone)
            return f"{local:%b} {local.day}, {local.year}, {local:%H:%M}"
        if isinstance(value, date):
            return f"{value:%b} {value.day}, {value.year}"
        return None

    def value_text(self, field_name: str, value: Any, currency: str = "USD") -> str:
        """One side of a change ('old → new') in words: names for ids, money, local times."""
        if value in (None, "", {}, []):
            return "—"
        if field_name in MONEY_FIELDS and not isinstance(value, (dict, list, bool)):
            try:
                return formatting.money(Decimal(str(value)), currency)
            except InvalidOperation:
                return str(value)
        if field_name.endswith(("_at", "_date")) and (moment := self.moment_text(value)) is not None:
            return moment
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
        return str(value)

    def timeline_item(self, entry: TimelineEntry, currency: str = "USD") -> TimelineItem:
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
                        f"{formatting.label(name)}: {self.value_text(name, old, currency)} → {self.value_text(name, new, currency)}"
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
