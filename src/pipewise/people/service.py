import hashlib
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from pipewise.audit import service as audit
from pipewise.auth.models import ApiToken, Role, Team, User
from pipewise.auth.visibility import Actor
from pipewise.db.base import Base, utcnow
from pipewise.db.plain_statement import PlainStatement
from pipewise.db.session import read
from pipewise.errors import Conflict, NotFound, ValidationFailed
from pipewise.records.checks import check_required_text, check_timezone
from pipewise.records.models import RecordHistory
from pipewise.records.normalize import normalize_user_email
from pipewise.records.registry import RECORD_TYPES
from pipewise.records.service import RecordService

_hasher = PasswordHasher()
TOKEN_PREFIX = "pw_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserService(RecordService[User]):
    """Users are records too (listed, filtered, with history); passwords are hashed here."""

    record_type = "user"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        if "email" in data:
            try:
                data["email"] = normalize_user_email(str(data["email"]))
            except ValueError as exc:
                errors.add("email", str(exc))
            else:
                taken = session.scalar(select(User.id).where(User.email == data["email"]))
                if taken is not None and (record is None or taken != record.id):
                    errors.add("email", f"a user with e-mail {data['email']} exists")
        elif record is None:
            errors.add("email", "is required")
        if "role" in data and data["role"] not in Role.__members__:
            errors.add("role", f"must be one of {', '.join(Role)}")
        if "timezone" in data and data["timezone"] is not None:
            try:
                data["timezone"] = check_timezone(data["timezone"])
            except ValueError as exc:
                errors.add("timezone", str(exc))
        password = data.pop("password", None)
        if password is not None:
            if len(password) < 8:
                errors.add("password", "must be at least 8 characters")
            data["password_hash"] = hash_password(password)

    # -- the rules of changing and removing people --

    def update(self, session: Session, record: User, *, data: dict[str, Any], actor: Actor) -> User:
        if record.is_admin and record.is_active:
            if data.get("role", Role.admin) != Role.admin:
                _keep_an_admin(session, record, "role", "cannot change")
            if data.get("is_active", True) is False:
                _keep_an_admin(session, record, "is_active", "cannot deactivate")
        was_active = record.is_active
        super().update(session, record, data=data, actor=actor)
        if was_active and not record.is_active:
            end_sessions(record)
        return record

    def delete_options(self, params: Mapping[str, str]) -> dict[str, Any]:
        value = params.get("reassign_to")
        if not value:
            return {}
        try:
            return {"reassign_to": uuid.UUID(value)}
        except ValueError:
            raise ValidationFailed.on("reassign_to", "is not a user id") from None

    def delete(self, session: Session, record: User, *, actor: Actor, reassign_to: uuid.UUID | None = None) -> None:
        """Remove a user who owns nothing, or hand everything they own to ``reassign_to``
        first. Deactivating (``is_active: false``) is the usual way someone leaves."""
        self.check_writable(session, record, actor=actor)
        if record.is_admin and record.is_active:
            _keep_an_admin(session, record, "id", "cannot delete")
        owned = owned_counts(session, record.id)
        if owned and reassign_to is None:
            listed = ", ".join(f"{count} {name}" for name, count in owned.items())
            raise Conflict(
                f"{record.email} owns {listed}; reassign them (reassign_to=<user id>) or deactivate the user instead"
            )
        if owned:
            reassign_owned(session, record, self._successor(session, record, reassign_to), actor=actor)
        super().delete(session, record, actor=actor)

    def _successor(self, session: Session, leaving: User, user_id: uuid.UUID | None) -> User:
        successor = session.get(User, user_id) if user_id else None
        if successor is None or not successor.is_active:
            raise ValidationFailed.on("reassign_to", f"no active user with id {user_id}")
        if successor.id == leaving.id:
            raise ValidationFailed.on("reassign_to", "must be someone other than the user being deleted")
        return successor

    def change_password(self, session: Session, user: User, *, current: str, new: str) -> None:
        """A user's own change: the current password must match. Every session ends."""
        if not verify_password(user.password_hash, current):
            raise ValidationFailed.on("current_password", "is not your current password")
        self.set_password(session, user, new, by=audit.as_person(user))

    def authenticate(self, session: Session, *, email: str, password: str) -> User | None:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_active:
            # Hash anyway so a missing account costs the same time as a wrong password.
            verify_password(hash_password("x" * 12), password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        user.last_login_at = utcnow()
        return user

    def set_password(self, session: Session, user: User, password: str, *, by: Actor | None = None) -> None:
        """``by``: who set it (None: the operator, from the command line)."""
        if len(password) < 8:
            raise ValidationFailed.on("password", "must be at least 8 characters")
        user.password_hash = hash_password(password)
        end_sessions(user)
        audit.log(session, "password.set", actor=by, label=None if by else "operator",
                  summary=f"new password set for {user.email}; every session ended", target_type="user", target_id=user.id)

    def by_email(self, session: Session, email: str) -> User:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user with e-mail {email}")
        return user


def end_sessions(user: User) -> None:
    """Every web session of ``user`` stops being accepted (API tokens are not touched)."""
    user.session_generation = (user.session_generation or 0) + 1


def _keep_an_admin(session: Session, user: User, field: str, verb: str) -> None:
    """Refuse when ``user`` is the last active admin. The active admins' rows are locked
    so two admins demoting each other at the same moment cannot both succeed."""
    admins = session.scalars(
        select(User.id).where(User.role == Role.admin, User.is_active.is_(True)).with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise ValidationFailed.on(
            field, f"{verb} {user.email}: they are the last active admin; make someone else an admin first"
        )


# Owned data outside the record types (looked up by table name, so this kernel module
# imports no domain package): unowned, these would be open to everyone too.
EXTRA_OWNED_TABLES = {"sequence": ("sequence", "sequences"), "email_template": ("e-mail template", "e-mail templates")}


def _owned_tables() -> list[tuple[tuple[str, str], Any, bool]]:
    """((singular, plural), table, is a record type) for everything a user can own."""
    tables = [((spec.name, spec.plural), spec.model.__table__, True) for spec in RECORD_TYPES.values() if spec.owned]
    for table_name, names in EXTRA_OWNED_TABLES.items():
        if table_name in Base.metadata.tables:
            tables.append((names, Base.metadata.tables[table_name], False))
    return tables


def owned_counts(session: Session, user_id: uuid.UUID) -> dict[str, int]:
    """How many of each kind of record ``user_id`` owns, by the kind's name ("3 deals",
    "1 contact"); kinds with none are left out."""
    counts = {}
    for (singular, plural), table, _record in _owned_tables():
        count = session.scalar(select(func.count()).select_from(table).where(table.c.owner_id == user_id)) or 0
        if count:
            counts[singular if count == 1 else plural] = count
    return counts


def reassign_owned(session: Session, leaving: User, successor: User, *, actor: Actor) -> None:
    """Give everything ``leaving`` owns to ``successor``, with a history entry for each
    record (and, for record types, the usual ``<type>.updated`` event; the other tables
    have no subscribers, so they get the history entry alone)."""
    for spec in [spec for spec in RECORD_TYPES.values() if spec.owned]:
        service = RecordService(spec.name)
        for record in session.scalars(select(spec.model).where(spec.model.owner_id == leaving.id)).all():
            service.update(session, record, data={"owner_id": successor.id}, actor=actor)
    for _names, table, is_record_type in _owned_tables():
        if is_record_type:
            continue
        ids = session.scalars(select(table.c.id).where(table.c.owner_id == leaving.id)).all()
        session.execute(table.update().where(table.c.owner_id == leaving.id).values(owner_id=successor.id))
        change = {"owner_id": [str(leaving.id), str(successor.id)]}
        actor_id = None if actor.id.int == 0 else actor.id
        session.add_all(
            RecordHistory(record_type=table.name, record_id=i, action="updated", changes=change, actor_id=actor_id)
            for i in ids
        )
    session.flush()


_managed = Team.__table__.alias("managed")
_ACTOR_BY_TOKEN = PlainStatement(
    select(User.id, User.role, User.team_id, User.email, User.name, _managed.c.id)
    .select_from(ApiToken)
    .join(User, User.id == ApiToken.user_id)
    .outerjoin(_managed, _managed.c.manager_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
)


class TokenService:
    def create(self, session: Session, *, user: User, name: str = "api") -> tuple[ApiToken, str]:
        """Return the stored token and the secret, which is never stored nor shown again."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=hash_token(secret))
        session.add(token)
        session.flush()
        audit.log(session, "token.created", actor=audit.as_person(user), summary=f"API token {name!r} ({token.prefix}…) created",
                  target_type="token", target_id=token.id)
        return token, secret

    def actor_for(self, session: Session, secret: str) -> Actor | None:
        """The acting user of a live token, with the teams they act for, in one query
        (a row per team the user manages); None if the token is unknown, revoked or its
        user inactive. Read on every API request, never cached: a revocation applies at once."""
        rows = read(session, _ACTOR_BY_TOKEN, {"token_hash": hash_token(secret)}).all()
        if not rows:
            return None
        user_id, role, team_id, email, name = rows[0][:5]
        teams = {managed for *_user, managed in rows if managed is not None}
        if team_id is not None:
            teams.add(team_id)
        return Actor(id=user_id, role=role, team_ids=frozenset(teams), email=email, name=name)

    def resolve(self, session: Session, secret: str) -> User | None:
        token = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
        )
        if token is None:
            return None
        user = session.get(User, token.user_id)
        return user if user is not None and user.is_active else None

    def revoke(self, session: Session, *, token_id: uuid.UUID, user: User) -> None:
        token = session.get(ApiToken, token_id)
        if token is None or (token.user_id != user.id and user.role != Role.admin):
            raise NotFound("no such token")
        token.revoked_at = utcnow()
        audit.log(session, "token.revoked", actor=audit.as_person(user), summary=f"API token {token.name!r} ({token.prefix}…) revoked",
                  target_type="token", target_id=token.id, details={"token_user_id": str(token.user_id)})


class TeamService(RecordService[Team]):
    record_type = "team"

    def validate(self, session, data, *, actor, record, errors):  # type: ignore[no-untyped-def]
        check_required_text(data, "name", record, errors)
        if data.get("name"):
            taken = session.scalar(select(Team.id).where(Team.name == data["name"]))
            if taken is not None and (record is None or taken != record.id):
                errors.add("name", f"a team named {data['name']!r} exists")
        manager_id = data.get("manager_id")
        if manager_id is not None and session.get(User, manager_id) is None:
            errors.add("manager_id", f"no user with id {manager_id}")


user_service = UserService()
token_service = TokenService()
team_service = TeamService()
