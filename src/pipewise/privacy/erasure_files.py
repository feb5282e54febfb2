"""The files an erasure removes: the ``.eml`` copies of the person's messages in the local
outbox (``mail.transport``), found by their ledger rows' Message-IDs, and any other file
there that names them; and the ZIPs of exports made about them (``subject_export``), found
by the audit entries that started them (a ZIP is compressed: its bytes cannot be searched)."""

import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from pipewise.audit.models import AuditEntry
from pipewise.mail.models import EmailMessage
from pipewise.mail.transport import FileTransport, outbox_dir
from pipewise.privacy.erasure_scrub import Pseudonyms
from pipewise.privacy.subject_export import export_path


def eml_files(session: Session, their_messages: ColumnElement[bool], pseudonyms: Pseudonyms) -> list[Path]:
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    named = {folder / FileTransport.filename(mid) for mid in session.scalars(select(EmailMessage.message_id).where(their_messages))}
    found = {path for path in named if path.is_file()}
    needles = [form.encode() for form in pseudonyms.search_forms()]
    for path in folder.glob("*.eml"):
        if path not in found and needles and _mentions(path.read_bytes().lower(), needles):
            found.add(path)
    return sorted(found)


def _mentions(content: bytes, needles: list[bytes]) -> bool:
    return any(needle in content for needle in needles)


def export_files(session: Session, record_ids: Iterable[uuid.UUID]) -> list[Path]:
    started = select(AuditEntry.details).where(AuditEntry.action == "privacy.exported",
                                               AuditEntry.target_id.in_([str(i) for i in record_ids]))
    paths = {export_path(uuid.UUID(details["job_id"])) for details in session.scalars(started) if details.get("job_id")}
    return sorted(path for path in paths if path.is_file())
