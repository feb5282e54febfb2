import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import ApiToken, Role, Team, User
from pipewise.db.base import utcnow
from pipewise.crm.normalize import normalize_user_email
from pipewise.crm.records import RecordService
from pipewise.crm.service import check_required_text, check_timezone
from pipewise.errors import NotFound, ValidationFailed

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

    def set_password(self, session: Session, user: User, password: str) -> None:
        if len(password) < 8:
            raise ValidationFailed.on("password", "must be at least 8 characters")
        user.password_hash = hash_password(password)

    def by_email(self, session: Session, email: str) -> User:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user with e-mail {email}")
        return user


class TokenService:
    def create(self, session: Session, *, user: User, name: str = "api") -> tuple[ApiToken, str]:
        """Return the stored token and the secret, which is never stored nor shown again."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=hash_token(secret))
        session.add(token)
        session.flush()
        return token, secret

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
