"""The app as `pipewise serve` runs it on SQLite: API plus an in-process worker."""

import time

from fastapi.testclient import TestClient

from pipewise.app import create_app
from pipewise.events import bus


def test_in_process_worker_delivers_events_after_commit(factory, session):
    delivered: list[str] = []

    @bus.subscribe("contact.created", name="test.app.contact_created")
    def on_contact_created(_session, event):
        delivered.append(event.payload["changes"]["last_name"][1])

    try:
        admin = factory.user(role="admin")
        headers = factory.headers(admin)
        with TestClient(create_app(start_worker=True)) as client:
            assert client.post("/api/v1/contacts", json={"last_name": "Turing"}, headers=headers).status_code == 201
            rejected = client.post("/api/v1/contacts", json={"last_name": "Bad", "email": "x"}, headers=headers)
            assert rejected.status_code == 422
            deadline = time.monotonic() + 20
            while not delivered and time.monotonic() < deadline:
                time.sleep(0.05)
        # The rejected write left no event behind: only the committed contact is delivered.
        assert delivered == ["Turing"]
    finally:
        bus.unsubscribe("test.app.contact_created")


def test_heavy_libraries_load_when_first_used_not_at_start():
    """An API process and the CLI start without scikit-learn, SciPy, NumPy, pandas or the
    phone geocoder's place names (about 100 MB): they load with the first model training,
    scoring or country cleaning that needs them. Nor do they load the outbound HTTP client,
    cryptography, the holiday calendars, icalendar or rapidfuzz (about 20 MB together): they
    load with the first webhook, mailbox password, working-day count, calendar or fuzzy
    duplicate check."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from pipewise.app import create_app\n"
        "create_app(start_worker=False)\n"
        "import pipewise.cli.main\n"
        "heavy = ('sklearn', 'scipy', 'numpy', 'pandas', 'joblib', 'phonenumbers.geodata', 'mcp',\n"
        "         'httpx', 'httpcore', 'cryptography', 'holidays', 'icalendar', 'rapidfuzz')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_fastapis_opentelemetry_is_asked_only_when_the_setting_is_on(monkeypatch):
    """Off by default: no request looks up OpenTelemetry's providers (it found them
    unconfigured at every request). ``PIPEWISE_OPENTELEMETRY=true`` gives FastAPI's spans
    back to a deployment that has set them up."""
    from opentelemetry import trace

    from pipewise.config import get_settings

    asked: list[int] = []
    provider = trace.get_tracer_provider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: asked.append(1) or provider)
    try:
        for setting, looked_up in (("false", False), ("true", True)):
            monkeypatch.setenv("PIPEWISE_OPENTELEMETRY", setting)
            get_settings.cache_clear()
            asked.clear()
            with TestClient(create_app(start_worker=False)) as client:
                assert client.get("/login").status_code == 200
            assert bool(asked) is looked_up, setting
    finally:
        get_settings.cache_clear()
