"""The server-rendered web UI (Jinja2 + HTMX)."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Mount the web UI's routes and static files on ``app``."""
