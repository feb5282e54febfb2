import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The key older set-ups and examples use: public, so never fit to sign anything in production.
BUILTIN_SECRET_KEY = "dev-insecure-change-me"


def load_or_create_secret_key(path: Path) -> str:
    """The key stored at ``path``; on first use a random one is written there (mode 0600).
    Linking a finished temporary file into place means two processes starting at once
    agree on one key: the second link fails and that process reads the first's file."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text().strip()


class Settings(BaseSettings):
    """Runtime configuration, read from ``PIPEWISE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PIPEWISE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/pipewise.db"
    # PostgreSQL connections per process: kept open (0: none kept, a connection per
    # transaction) and opened beyond that under load.
    database_pool_size: int = Field(default=10, ge=0)
    database_max_overflow: int = Field(default=20, ge=0)
    # "pgbouncer": the URL points at a pooler in transaction mode (PgBouncer, or any that
    # hands a server connection to another client between transactions), so nothing may
    # outlive a transaction on the connection: psycopg's prepared statements are off.
    database_pooler: Literal["none", "pgbouncer"] = "none"
    # SQLite: checkpoint the write-ahead log from a thread of the process instead of inside
    # the commit that crosses 1,000 pages (db/wal.py).
    sqlite_background_checkpoints: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    # API processes `pipewise serve` starts (more than one needs PostgreSQL).
    serve_workers: int = Field(default=1, ge=1)
    # Reps may read every record (but still change only their team's).
    open_read_access: bool = False
    # FastAPI's OpenTelemetry spans, metrics and logs, for a deployment that has set up
    # OpenTelemetry's providers (the opentelemetry-sdk and its exporters, which Pipewise does not install).
    opentelemetry: bool = False
    # Run the outbox worker inside `pipewise serve` (default on SQLite).
    inprocess_worker: bool | None = None
    worker_poll_seconds: float = 0.5
    # Outbox events a worker claims and works in one transaction (due timers and webhook
    # retries: at most 200, see worker/runner.py). A routed lead makes about four events:
    # at 200, a worker catching up took two to four transactions back to back, each paying
    # a batch's fixed reads and, on SQLite, a turn of the one writer.
    worker_batch_size: int = Field(default=500, ge=1, le=5000)
    outbox_dir: Path = Path("var/outbox")
    secure_cookies: bool = False
    idempotency_ttl_hours: int = 24
    # Request limits (api/limits.py): body sizes (larger for CSV imports and for the bulk
    # routes, whose 1,000 items may pass 1 MiB) and JSON nesting.
    max_body_bytes: int = 1024 * 1024
    max_import_bytes: int = 256 * 1024 * 1024
    max_bulk_bytes: int = 8 * 1024 * 1024
    max_json_depth: int = 32

    # Mail trust. A mail gateway signs POST /api/v1/inbound/email with this secret
    # (X-Pipewise-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">); without it
    # the endpoint takes nothing. Signatures older than the window are refused (replays).
    inbound_secret: str | None = None
    inbound_window_seconds: int = 300
    # How long the link that confirms a new From address stays valid.
    sender_confirmation_hours: int = 48
    # Keyed into the hash that keeps an erased person's address on the suppression list
    # (HMAC-SHA256), so a copy of the database alone cannot test addresses against it.
    # Set it once and keep it: entries hashed with another pepper no longer match.
    suppression_pepper: str = ""

    # Outbound connections (webhooks, SMTP): internal hosts and networks let through,
    # comma-separated host names and addresses or CIDRs (e.g. "hooks.internal,10.0.5.0/24").
    outbound_allow: str = ""

    # -- security: secret key, sessions, log-in throttling, proxies --
    # Signs session cookies and links. Unset, a random key is generated once into
    # <data_dir>/secret_key and every process (serve, worker, CLI) reads it from there.
    secret_key: str = ""
    data_dir: Path = Path("var")
    # Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For
    # is believed; from anyone else the direct peer is the client.
    trusted_proxies: str = ""
    # Failed log-ins allowed before each further attempt waits (per account, per address),
    # the first wait, and the longest; waits double with each further failure.
    login_free_attempts: int = 5
    login_free_attempts_per_address: int = 20
    login_first_delay_seconds: int = 2
    login_max_delay_seconds: int = 900

    @model_validator(mode="after")
    def _secret_key_from_file(self) -> "Settings":
        if not self.secret_key:
            self.secret_key = load_or_create_secret_key(self.data_dir / "secret_key")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def run_inprocess_worker(self) -> bool:
        return self.is_sqlite if self.inprocess_worker is None else self.inprocess_worker


@lru_cache
def get_settings() -> Settings:
    return Settings()
