"""CSV import of any record type that registers an ``ImportProfile`` (accounts, contacts,
deals): the same column mapping, preview and row report as the lead import, through the
record type's own service, so visibility, owner rules, validation, custom fields, history
and events are those of a record written by hand.

A row's cells are read by the mapping; a related record is named by its name (or domain,
or e-mail) rather than its id (``Lookup``), an owner by their e-mail; an existing record
with the same e-mail or domain (``match_on``) is skipped, updated or duplicated as the
person chose. Each row is written in a savepoint of its own, so a bad row is reported (line,
outcome and the problem of each field) and never half-written.

``per_row`` commits every batch of rows; ``all_or_nothing`` and a dry run write every row
in one transaction and roll it back if any row was rejected (or always, for a dry run),
so the report tells what would have happened."""

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipewise.auth.models import User
from pipewise.auth.visibility import Actor
from pipewise.errors import NotFound, PipewiseError, ValidationFailed
from pipewise.records import custom_fields, normalize
from pipewise.records.csvstream import BadRecord, Record, read_records
from pipewise.records.import_columns import CUSTOM_PREFIX, alias_table, check_mapping, read_headers, suggest_mapping
from pipewise.records.registry import RecordSpec, spec_for
from pipewise.records.repository import RecordRepository
from pipewise.records.service import RecordService, assignable_users

ON_DUPLICATE = ("skip", "update", "create")
MODES = ("per_row", "all_or_nothing")
DELIMITERS = (",", ";", "\t", "|")
ROW = ""  # the key of a problem with the row as a whole
OWNER_EMAIL = "owner_email"
# How a value is compared when records are matched on it: as the services store it.
MATCH_FORMS: dict[str, Callable[[str], str]] = {"email": normalize.normalize_email, "domain": normalize.normalize_domain}


@dataclass(frozen=True)
class Lookup:
    """A column that names a related record (by any of ``match_on``) instead of its id."""

    target: str  # the field a column is mapped to, e.g. "account"
    column: str  # the field it fills, e.g. "account_id"
    record_type: str
    match_on: tuple[str, ...] = ("name",)
    # A field the found record and the row share (a stage's pipeline): the row's value, if
    # it has one, narrows the search; else the found record's fills it.
    scope: str | None = None


@dataclass(frozen=True)
class ImportProfile:
    service: RecordService[Any]
    create: type[BaseModel]
    update: type[BaseModel]
    aliases: dict[str, list[str]] = field(default_factory=dict)
    match_on: tuple[str, ...] = ()  # fields that say "the same record", the first one filled wins
    lookups: tuple[Lookup, ...] = ()

    @property
    def spec(self) -> RecordSpec:
        return self.service.spec

    @property
    def record_type(self) -> str:
        return self.spec.name

    def fields(self) -> tuple[str, ...]:
        """The fields a column may be mapped to (custom fields aside)."""
        filled = {lookup.column for lookup in self.lookups} | {"owner_id", "custom"}
        plain = tuple(name for name in self.create.model_fields if name not in filled)
        owner = (OWNER_EMAIL,) if self.spec.owned else ()
        return (*plain, *(lookup.target for lookup in self.lookups), *owner)

    def required(self) -> tuple[str, ...]:
        return tuple(name for name, info in self.create.model_fields.items() if info.is_required())

    def field_of(self, key: str) -> str:
        """The mapped field a service's error key stands for (``account_id`` -> ``account``)."""
        if key == "owner_id":
            return OWNER_EMAIL
        return next((lookup.target for lookup in self.lookups if lookup.column == key), key)


PROFILES: dict[str, ImportProfile] = {}


def register_profile(profile: ImportProfile) -> None:
    PROFILES[profile.record_type] = profile


def profile_for(record_type: str) -> ImportProfile:
    profile = PROFILES.get(record_type)
    if profile is None:
        raise NotFound(f"{record_type} records cannot be imported")
    return profile


def mappable(session: Session, profile: ImportProfile) -> list[str]:
    """Every field a column may go to: the type's own and its custom fields."""
    custom = [CUSTOM_PREFIX + key for key in custom_fields.definitions(session, profile.record_type)]
    return [*profile.fields(), *custom] if profile.spec.has_custom_fields else list(profile.fields())


def guess_mapping(session: Session, profile: ImportProfile, headers: list[str]) -> dict[str, str]:
    keys = custom_fields.definitions(session, profile.record_type) if profile.spec.has_custom_fields else {}
    return suggest_mapping(headers, alias_table({name: profile.aliases.get(name, []) for name in profile.fields()}), keys)


def validate_mapping(profile: ImportProfile, headers: list[str], mapping: dict[str, str]) -> None:
    errors = check_mapping(headers, mapping, profile.fields(), noun=profile.record_type)
    missing = [name for name in profile.required() if name not in mapping.values()]
    if missing:
        errors.add("mapping", f"map a column to {', '.join(missing)}: every {profile.record_type} needs it")
    errors.raise_if_any()


@dataclass
class ImportOptions:
    mapping: dict[str, str] | None = None
    on_duplicate: str = "skip"
    mode: str = "per_row"
    dry_run: bool = False
    delimiter: str = ","

    def check(self) -> None:
        if self.on_duplicate not in ON_DUPLICATE:
            raise ValidationFailed.on("on_duplicate", f"must be one of {', '.join(ON_DUPLICATE)}")
        if self.mode not in MODES:
            raise ValidationFailed.on("mode", f"must be one of {', '.join(MODES)}")
        if self.delimiter not in DELIMITERS:
            raise ValidationFailed.on("delimiter", "must be one of , ; | or a tab")


@dataclass
class RowResult:
    line: int
    outcome: str  # created | updated | skipped | rejected
    record_id: uuid.UUID | None = None
    errors: dict[str, str] = field(default_factory=dict)
    excerpt: str | None = None
    cells: dict[str, str] = field(default_factory=dict)


class RowWriter:
    """Writes the rows of one file, one savepoint each, with the rights of ``actor``.
    Lookups of related records and owners are remembered for the whole file."""

    def __init__(self, profile: ImportProfile, headers: list[str], mapping: dict[str, str], options: ImportOptions,
                 actor: Actor) -> None:
        self.profile = profile
        self.width = len(headers)
        self.columns = [(headers.index(column), target) for column, target in mapping.items() if column in headers]
        self.options = options
        self.actor = actor
        self.found: dict[tuple[str, str, Any], tuple[uuid.UUID, Any] | str] = {}
        self.owners: dict[str, uuid.UUID] | None = None

    def write_all(self, session: Session, items: Iterable[Record | BadRecord]) -> Iterator[RowResult]:
        for item in items:
            if isinstance(item, BadRecord):
                yield RowResult(item.line, "rejected", errors={ROW: item.reason}, excerpt=item.excerpt[:300])
            else:
                yield self.write(session, item)

    def write(self, session: Session, record: Record) -> RowResult:
        result = RowResult(record.line, "rejected", excerpt=record.raw[:300])
        if len(record.values) != self.width:
            result.errors[ROW] = (f"has {len(record.values)} fields where the header has {self.width} "
                                  "(a missing or extra column)")
            return result
        data = self.cells(record, result)
        self.resolve(session, data, result.errors)
        existing = None if self.options.on_duplicate == "create" else self.existing(session, data)
        if existing is not None and self.options.on_duplicate == "skip":
            result.outcome, result.record_id = "skipped", existing
            result.errors[ROW] = f"a {self.profile.record_type} with the same {', '.join(self.profile.match_on)} exists"
            return result
        payload = self.validated(data, creating=existing is None, errors=result.errors)
        if result.errors:
            return result
        self.save(session, payload, existing, result)
        return result

    def save(self, session: Session, payload: dict[str, Any], existing: uuid.UUID | None, result: RowResult) -> None:
        """Create or update through the service, in a savepoint: a refusal leaves nothing behind."""
        service = self.profile.service
        try:
            with session.begin_nested():
                if existing is None:
                    written = service.create(session, data=payload, actor=self.actor)
                else:
                    written = service.update(session, service.get(session, existing, actor=self.actor, write=True),
                                             data=payload, actor=self.actor)
                session.flush()
        except ValidationFailed as exc:
            result.errors.update({self.profile.field_of(e.field): e.message for e in exc.errors} or {ROW: exc.detail})
            return
        except PipewiseError as exc:
            result.errors[ROW] = exc.detail
            return
        except SQLAlchemyError as exc:
            result.errors[ROW] = f"the database refused the row ({type(getattr(exc, 'orig', None) or exc).__name__})"
            return
        result.outcome = "created" if existing is None else "updated"
        result.record_id, result.excerpt = written.id, None

    def cells(self, record: Record, result: RowResult) -> dict[str, Any]:
        data: dict[str, Any] = {}
        custom: dict[str, str] = {}
        for index, target in self.columns:
            value = record.values[index].strip()
            result.cells[target] = value
            if not value:
                continue
            if target.startswith(CUSTOM_PREFIX):
                custom[target[len(CUSTOM_PREFIX):]] = value
            else:
                data[target] = value
        if custom:
            data["custom"] = custom
        return data

    # -- related records and owners, named by the file --

    def resolve(self, session: Session, data: dict[str, Any], errors: dict[str, str]) -> None:
        email = data.pop(OWNER_EMAIL, None)
        if email is not None:
            owner = self._owner_ids(session).get(email.lower())
            if owner is None:
                errors[OWNER_EMAIL] = f"{email} is not a user you may assign {self.profile.spec.plural} to"
            else:
                data["owner_id"] = owner
        for lookup in self.profile.lookups:
            value = data.pop(lookup.target, None)
            if value is None:
                continue
            scope_value = data.get(lookup.scope) if lookup.scope else None
            key = (lookup.target, value.lower(), scope_value)
            if key not in self.found:
                self.found[key] = self._find(session, lookup, value, scope_value)
            found = self.found[key]
            if isinstance(found, str):
                errors[lookup.target] = found
                continue
            data[lookup.column], found_scope = found
            if lookup.scope and scope_value is None:
                data[lookup.scope] = found_scope

    def _owner_ids(self, session: Session) -> dict[str, uuid.UUID]:
        if self.owners is None:
            assignable = assignable_users(self.actor)
            query = select(User.id, User.email).where(User.is_active.is_(True))
            query = query if assignable is None else query.where(assignable)
            self.owners = {email.lower(): user_id for user_id, email in session.execute(query)}
        return self.owners

    def _find(self, session: Session, lookup: Lookup, value: str, scope_value: Any) -> tuple[uuid.UUID, Any] | str:
        """The id (and scope) of the one visible record ``value`` names, or why there is none."""
        spec = spec_for(lookup.record_type)
        model: Any = spec.model
        scope = getattr(model, lookup.scope) if lookup.scope else None
        stmt = RecordRepository(session, spec).visible(select(model.id, scope if scope is not None else model.id), self.actor)
        stmt = stmt.where(or_(*(matches(model, column, value) for column in lookup.match_on)))
        if scope is not None and scope_value is not None:
            stmt = stmt.where(scope == scope_value)
        found = session.execute(stmt.limit(2)).all()
        if not found:
            return f"no {spec.name} you can see is called {value!r}"
        if len(found) > 1:
            return f"{value!r} names more than one {spec.name}" + (f"; map a {lookup.scope.removesuffix('_id')} column too"
                                                                    if lookup.scope and scope_value is None else "")
        return found[0][0], found[0][1]

    # -- the same record, already there --

    def existing(self, session: Session, data: dict[str, Any]) -> uuid.UUID | None:
        model: Any = self.profile.spec.model
        for name in self.profile.match_on:
            value = data.get(name)
            if value:
                stmt = RecordRepository(session, self.profile.spec).visible(select(model.id), self.actor, write=False)
                return session.scalar(stmt.where(matches(model, name, value)).order_by(model.created_at).limit(1))
        return None

    def validated(self, data: dict[str, Any], *, creating: bool, errors: dict[str, str]) -> dict[str, Any]:
        schema = self.profile.create if creating else self.profile.update
        try:
            return schema.model_validate(data).model_dump(exclude_unset=True)
        except ValidationError as exc:
            for problem in exc.errors():
                where = ".".join(str(part) for part in problem["loc"]) or ROW
                errors.setdefault(self.profile.field_of(where), problem["msg"])
            return {}


def matches(model: Any, column: str, value: str) -> Any:
    """``column`` equals ``value`` as the service would have stored it, ignoring case."""
    form = MATCH_FORMS.get(column)
    if form is not None:
        try:
            value = form(value)
        except ValueError:
            pass
    return func.lower(getattr(model, column)) == value.strip().lower()


# -- preview --


@dataclass
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    rows: list[RowResult]


def preview(session: Session, stream: BinaryIO, *, profile: ImportProfile, actor: Actor, options: ImportOptions,
            limit: int = 10) -> Preview:
    """The file's columns, the mapping (the one given, or a guess) and what the first rows
    would become, with each cell's problem. The rows are written and rolled back: the
    caller's session must be one that is never committed."""
    records = read_records(stream, delimiter=options.delimiter)
    headers = read_headers(records)
    mapping = options.mapping if options.mapping is not None else guess_mapping(session, profile, headers)
    writer = RowWriter(profile, headers, mapping, options, actor)
    rows: list[RowResult] = []
    if limit:
        for result in writer.write_all(session, records):
            rows.append(result)
            if len(rows) >= limit:
                break
    session.rollback()
    return Preview(headers, mapping, rows)
