"""Secrets and signatures as the Standard Webhooks specification writes them.

A secret is ``whsec_`` and the base64 of 24 random bytes. A signature is ``v1,`` and the
base64 of HMAC-SHA256, keyed by the secret's bytes, over ``<webhook-id>.<webhook-timestamp>.<body>``;
while a rotated-out secret is still in its overlap window, the header carries both
signatures separated by a space, and a receiver that knows either secret accepts."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_in_use: list[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets_in_use)
