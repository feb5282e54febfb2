"""The one place the mail package reads the time, so tests and the demo can move it."""

from datetime import datetime

from pipewise.db import base


def now() -> datetime:
    return base.utcnow()
