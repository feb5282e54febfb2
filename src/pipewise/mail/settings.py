"""Mail settings (``PIPEWISE_*`` environment variables): the global SMTP server that
mailboxes without their own use, the public address tracking links point at, and the
delivery lease. With no SMTP host, mail is written to ``outbox_dir`` as .eml files."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPEWISE_", env_file=".env", extra="ignore")

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # none | starttls | ssl
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0
    # TLS (STARTTLS or implicit) checks the server's certificate against this CA bundle,
    # else the system's; turn the check off only for a self-signed server you run yourself.
    # These apply to mailboxes with a server of their own too.
    smtp_ca_file: str | None = None
    smtp_tls_verify: bool = True
    # Base URL of this installation as recipients reach it (tracking and unsubscribe links).
    public_url: str = "http://127.0.0.1:8000"
    # How long a delivery may be claimed before another worker may take it over; a
    # crashed worker's claim expires after this.
    send_lease_seconds: int = 120
    # Where the mailto: of List-Unsubscribe points; by default the sender's own address,
    # whose replies Pipewise reads (IMAP or the inbound endpoint).
    unsubscribe_address: str | None = None
    # Global IMAP account polled by `pipewise mail poll` (mailboxes may have their own).
    imap_host: str | None = None
    imap_port: int = 993
    imap_security: str = "ssl"
    imap_username: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"


@lru_cache
def get_mail_settings() -> MailSettings:
    return MailSettings()
