"""Mailbox passwords at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from
the installation's secret key by HKDF, so a copy of the database alone does not give
away anyone's SMTP or IMAP login. Changing the secret key makes stored passwords
unreadable: they have to be entered again."""

import base64
from functools import lru_cache
from typing import TYPE_CHECKING

from pipewise.config import get_settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "fernet:"


class UnreadableSecret(Exception):
    """A stored password that this secret key did not encrypt."""


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> "Fernet":
    # cryptography (about 7 MB) loads with the first mailbox password, not at start.
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"pipewise.mail", info=b"mailbox passwords").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str | None, *, secret_key: str | None = None) -> str | None:
    if not plain:
        return None
    return PREFIX + _fernet(secret_key or get_settings().secret_key).encrypt(plain.encode()).decode()


def decrypt(stored: str | None) -> str | None:
    if not stored:
        return None
    if not stored.startswith(PREFIX):
        raise UnreadableSecret("the stored password is not encrypted; enter it again")
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(get_settings().secret_key).decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise UnreadableSecret("the stored password was encrypted with another secret key; enter it again") from None
