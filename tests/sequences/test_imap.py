"""`pipewise mail poll` against a real IMAP server (Dovecot) on loopback: a reply in the
inbox ends the sequence, and a second poll finds nothing new."""

import imaplib
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from pipewise.mail.settings import get_mail_settings
from pipewise.sequences import inbound
from tests.sequences.dovecot import DOVECOT, Dovecot
from tests.sequences.support import run_worker
from tests.sequences.test_inbound import start
from tests.sequences.test_scenarios import enrollment_of, reply_to

pytestmark = pytest.mark.skipif(DOVECOT is None, reason="needs Dovecot's IMAP server (Debian package dovecot-imapd)")


@pytest.fixture
def imap_server(monkeypatch):  # type: ignore[no-untyped-def]
    # Dovecot's auth process runs as its own user, so the folder must be reachable by it
    # (pytest's tmp_path is private to root).
    root = Path(tempfile.mkdtemp(prefix="pipewise-dovecot-"))
    root.chmod(0o755)
    server = Dovecot(root, username="sales", password="s3cret").start()
    for key, value in {"HOST": "127.0.0.1", "PORT": str(server.port), "SECURITY": "none", "USERNAME": "sales", "PASSWORD": "s3cret"}.items():
        monkeypatch.setenv(f"PIPEWISE_IMAP_{key}", value)
    get_mail_settings.cache_clear()
    yield server
    server.stop()
    get_mail_settings.cache_clear()
    shutil.rmtree(root, ignore_errors=True)


def test_the_imap_poller_turns_a_reply_into_an_exit(session, factory, smtp, clock, imap_server):
    contact, first = start(session, factory, smtp)
    client = imaplib.IMAP4("127.0.0.1", imap_server.port)
    client.login("sales", "s3cret")
    client.append("INBOX", None, imaplib.Time2Internaldate(time.time()), reply_to(first, sender=contact.email))
    client.logout()

    results = inbound.poll_all()
    assert [o.kind for o in results["global"]] == ["reply"], results
    assert inbound.poll_all() == {"global": []}
    run_worker()
    assert enrollment_of(session, contact).status == "exited"
