"""Demo log-in settings. The demo password is public by design (it is printed by
`pipewise serve` and in the docs); set PIPEWISE_DEMO_PASSWORD to choose another."""

from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_ADMIN_EMAIL = "admin@pipewise.local"
DEMO_ADMIN_NAME = "Demo Admin"
DEFAULT_DEMO_PASSWORD = "pipewise-demo"
DEMO_EMAIL_DOMAIN = "pipewise.local"


class DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPEWISE_DEMO_", env_file=".env", extra="ignore")

    password: str = DEFAULT_DEMO_PASSWORD


def demo_password() -> str:
    return DemoSettings().password
