"""Finding and replacing a person's details in free text and JSON.

``Pseudonyms`` holds what identifies the person (every e-mail address they had, their
phone numbers in the forms people type them, their full names) and what each becomes.
``scrub_table`` applies it to some text or JSON columns of any table: rows are found by a
case-insensitive substring match in the database, rewritten in Python (JSON walked value
by value, keys too) and written back by primary key. The registered columns
(``records.personal_data``) are scrubbed this way on every erasure."""

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import phonenumbers
from sqlalchemy import JSON, ColumnElement, LargeBinary, String, Text, Table, cast, false, func, or_, select, update
from sqlalchemy.orm import Session

from pipewise.db.base import Base
from pipewise.errors import ValidationFailed

ERASED = "[erased]"
PHONE_FORMATS = (
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
)
MIN_NEEDLE = 5  # shorter values (an initial, a two-letter name) would hit other people's text
# In JSON about the person's own records (their history, their events), the values under
# these keys are theirs whether or not they match a value we know (a first name alone).
PERSONAL_KEYS = frozenset({
    "first_name", "last_name", "name", "full_name", "email", "phone", "title", "timezone", "custom", "attribution",
    "subject", "body", "body_text", "body_html", "notes", "to_address", "from_address", "address", "signer_name",
    "answers", "payload", "detail",
})


def phone_forms(number: str) -> set[str]:
    """The ways a stored number is likely written: as stored, E.164, international and
    national format, and its digits alone (with and without the country code)."""
    forms = {number.strip()}
    try:
        parsed = phonenumbers.parse(number, None if number.strip().startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return forms
    forms.update(phonenumbers.format_number(parsed, f) for f in PHONE_FORMATS)
    national = str(parsed.national_number)
    forms.update({f"{parsed.country_code}{national}", "0" + national if len(national) >= 7 else national})
    return {f for f in forms if len(re.sub(r"\D", "", f)) >= 6}


@dataclass(frozen=True)
class Pseudonyms:
    """Each identifying value of one person (lower-cased) and the text that replaces it."""

    replacements: dict[str, str]
    name: str = "Erased person"
    email: str = "erased@erased.invalid"

    @classmethod
    def build(cls, *, token: str, emails: Iterable[str], phones: Iterable[str], names: Iterable[str]) -> "Pseudonyms":
        pseudo_email, pseudo_name = f"erased-{token}@erased.invalid", f"Erased person {token}"
        found: dict[str, str] = {}
        for value, replacement in (
            *((e, pseudo_email) for e in emails),
            *((form, "[erased phone]") for p in phones for form in phone_forms(p)),
            *((n, pseudo_name) for n in names),
        ):
            value = " ".join(str(value or "").split()).lower()
            if len(value) >= MIN_NEEDLE:
                found.setdefault(value, replacement)
        return cls(found, pseudo_name, pseudo_email)

    @property
    def empty(self) -> bool:
        return not self.replacements

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        needles = sorted(self.replacements, key=len, reverse=True)
        return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE) if needles else None

    def rewrite(self, value: Any, *, owned: bool = False) -> Any:
        """``value`` with every occurrence replaced: a string, or JSON walked through.
        ``owned``: the value is about the person's own record, so whatever sits under a
        ``PERSONAL_KEYS`` key is erased as well."""
        pattern = self._pattern

        def replace(text: str) -> str:
            return pattern.sub(lambda m: self.replacements.get(m.group(0).lower(), ERASED), text) if pattern else text

        return _walk(value, replace, owned)

    def search_forms(self) -> set[str]:
        """What to look for in stored text: each value, and its JSON-escaped form (JSON
        written with ASCII escapes keeps "Zoë" as "Zo\\u00eb")."""
        forms = set(self.replacements)
        forms.update(json.dumps(value)[1:-1].lower() for value in self.replacements)
        return forms

    def where(self, column: Any) -> ColumnElement[bool]:
        """A case-insensitive "mentions the person" test on a text or JSON column."""
        text = cast(column, Text) if isinstance(column.type, JSON) or not isinstance(column.type, String) else column
        forms = self.search_forms()
        if not forms:
            return false()
        return or_(*(func.lower(text).contains(form, autoescape=True) for form in sorted(forms)))


def _walk(value: Any, replace: Any, owned: bool) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_walk(item, replace, owned) for item in value]
    if isinstance(value, dict):
        return {
            (replace(k) if isinstance(k, str) else k): (_erased(v) if owned and k in PERSONAL_KEYS else _walk(v, replace, owned))
            for k, v in value.items()
        }
    return value


def _erased(value: Any) -> Any:
    """A personal value's place kept, its content gone: strings and containers become
    ``ERASED``, an ``[old, new]`` change pair becomes a pair of them; empty values stay."""
    if value is None or value == "" or value == {} or value == []:
        return value
    if isinstance(value, list) and len(value) == 2 and not any(isinstance(v, (dict, list)) for v in value):
        return [None if v is None else ERASED for v in value]
    return ERASED if isinstance(value, (str, dict, list)) else value


def table_of(name: str) -> Table:
    table = Base.metadata.tables.get(name)
    if table is None:
        raise ValidationFailed.on("table", f"no table {name!r} is known: check what was registered for scrubbing")
    return table


Owned = Callable[[Table], ColumnElement[bool] | None]


def scrub_table(
    session: Session, table_name: str, columns: Iterable[str], pseudonyms: Pseudonyms, *, dry_run: bool,
    owned: Owned | None = None,
) -> int:
    """Replace the person's details in ``columns`` of every row of ``table_name`` (and,
    in the rows ``owned(table)`` picks, everything under ``PERSONAL_KEYS``); returns how
    many rows changed (or would change)."""
    table = table_of(table_name)
    scrubbed = [table.c[name] for name in columns if not isinstance(table.c[name].type, LargeBinary)]
    if not scrubbed or (pseudonyms.empty and owned is None):
        return 0
    keys = list(table.primary_key.columns)
    mine = (owned(table) if owned is not None else None)
    if mine is None:
        mine = false()
    changed = 0
    found = select(*keys, *scrubbed, mine.label("owned")).where(or_(mine, *(pseudonyms.where(c) for c in scrubbed)))
    for row in session.execute(found).all():
        values = {c.name: _rewritten(pseudonyms, row._mapping[c], owned=bool(row.owned)) for c in scrubbed}
        values = {name: value for name, value in values.items() if value != row._mapping[table.c[name]]}
        if not values:
            continue
        changed += 1
        if not dry_run:
            session.execute(update(table).where(*(k == row._mapping[k] for k in keys)).values(**values))
    return changed


def _rewritten(pseudonyms: Pseudonyms, value: Any, *, owned: bool) -> Any:
    """``Pseudonyms.rewrite``, and for a row about the person's own record whose text is a
    JSON object (a webhook's body), the object walked key by key and written back compactly."""
    if owned and isinstance(value, str) and value.startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return json.dumps(pseudonyms.rewrite(parsed, owned=True), separators=(",", ":"), default=str)
    return pseudonyms.rewrite(value, owned=owned)
