from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration, read from ``PIPEWISE_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PIPEWISE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/pipewise.db"
    secret_key: str = "dev-insecure-change-me"
    host: str = "127.0.0.1"
    port: int = 8000
    # Reps may read every record (but still change only their team's).
    open_read_access: bool = False
    # Run the outbox worker inside `pipewise serve` (default on SQLite).
    inprocess_worker: bool | None = None
    worker_poll_seconds: float = 0.5
    outbox_dir: Path = Path("var/outbox")
    secure_cookies: bool = False
    idempotency_ttl_hours: int = 24
    # Request limits (api/limits.py): body sizes (larger for CSV imports) and JSON nesting.
    max_body_bytes: int = 1024 * 1024
    max_import_bytes: int = 256 * 1024 * 1024
    max_json_depth: int = 32

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def run_inprocess_worker(self) -> bool:
        return self.is_sqlite if self.inprocess_worker is None else self.inprocess_worker


@lru_cache
def get_settings() -> Settings:
    return Settings()
