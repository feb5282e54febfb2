"""The record types Pipewise knows, described once for every generic path (listing,
filtering, history, visibility, API routes). Each domain registers its own types
(``Kernel.record_type``); this module names none of them."""

from dataclasses import dataclass, field

from pipewise.db.base import Base


@dataclass(frozen=True)
class RecordSpec:
    name: str
    plural: str
    model: type[Base]
    search_fields: tuple[str, ...] = ()
    # Owned records follow team visibility; the others are shared reference data.
    owned: bool = True
    # relation name -> (foreign-key column, target record type); used by filters
    # ("account.industry") and to check that referenced records exist and are visible.
    relations: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Roles that may write unowned reference data (None: anyone who can see it).
    write_roles: frozenset[str] | None = None
    has_custom_fields: bool = True
    hidden_fields: frozenset[str] = frozenset()


MANAGERS = frozenset({"admin", "manager"})
ADMINS = frozenset({"admin"})
OWNER = {"owner": ("owner_id", "user")}

RECORD_TYPES: dict[str, RecordSpec] = {}

# Tables that are not record types but whose rows a user owns (owner_id), by table name:
# (singular, plural) for messages such as "owns 2 sequences".
OWNED_TABLES: dict[str, tuple[str, str]] = {}


def register(spec: RecordSpec) -> None:
    existing = RECORD_TYPES.get(spec.name)
    if existing is not None and existing != spec:
        raise ValueError(f"record type {spec.name!r} is registered twice")
    RECORD_TYPES[spec.name] = spec


def register_owned_table(table_name: str, singular: str, plural: str) -> None:
    OWNED_TABLES[table_name] = (singular, plural)


def customizable() -> tuple[str, ...]:
    """Record types that carry custom fields, and so may have definitions."""
    return tuple(name for name, spec in RECORD_TYPES.items() if spec.has_custom_fields)


def spec_for(name: str) -> RecordSpec:
    return RECORD_TYPES[name]
