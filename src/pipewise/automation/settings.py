from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class AutomationSettings(BaseSettings):
    """``PIPEWISE_AUTOMATION_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="PIPEWISE_AUTOMATION_", env_file=".env", extra="ignore")

    # Activating any workflow needs a manager's or admin's approval.
    approval_required: bool = False
    # A failing step is tried this many times (with backoff) before it is dead-lettered.
    max_attempts: int = 5
    # Time-based triggers (absence, date-relative, overdue tasks) are checked this often.
    check_every_minutes: int = 60
    # Country whose public holidays business-day waits skip ("" for weekends only).
    holiday_country: str = ""
    webhook_timeout_seconds: float = 10.0


@lru_cache
def get_automation_settings() -> AutomationSettings:
    return AutomationSettings()
