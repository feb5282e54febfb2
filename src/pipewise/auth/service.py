import hashlib
import secrets
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipewise.auth.models import ApiToken, Role, Team, User
from pipewise.db.base import utcnow
from pipewise.errors import Conflict, ErrorCollector, NotFound

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


class UserService:
    def create(
        self,
        session: Session,
        *,
        email: str,
        name: str,
        password: str | None = None,
        role: str = Role.rep,
        team_id: uuid.UUID | None = None,
        timezone: str = "UTC",
    ) -> User:
        errors = ErrorCollector()
        email = email.strip().lower()
        if "@" not in email:
            errors.add("email", "is not an e-mail address")
        if role not in Role.__members__:
            errors.add("role", f"must be one of {', '.join(Role)}")
        if password is not None and len(password) < 8:
            errors.add("password", "must be at least 8 characters")
        if team_id is not None and session.get(Team, team_id) is None:
            errors.add("team_id", "no such team")
        errors.raise_if_any()
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict(f"a user with e-mail {email} exists")
        user = User(
            email=email,
            name=name.strip(),
            password_hash=hash_password(password) if password else None,
            role=role,
            team_id=team_id,
            timezone=timezone,
        )
        session.add(user)
        session.flush()
        return user

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
        errors = ErrorCollector()
        if len(password) < 8:
            errors.add("password", "must be at least 8 characters")
        errors.raise_if_any()
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


class TeamService:
    def create(self, session: Session, *, name: str, manager_id: uuid.UUID | None = None) -> Team:
        if session.scalar(select(Team.id).where(Team.name == name)) is not None:
            raise Conflict(f"a team named {name!r} exists")
        team = Team(name=name, manager_id=manager_id)
        session.add(team)
        session.flush()
        return team


user_service = UserService()
token_service = TokenService()
team_service = TeamService()
