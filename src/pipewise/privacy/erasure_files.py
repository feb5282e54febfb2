"""The files an erasure removes: the ``.eml`` copies of the person's messages in the local
outbox (``mail.transport``), found by their ledger rows' Message-IDs, and any other file
there that names them."""

from pathlib import Path

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from pipewise.mail.models import EmailMessage
from pipewise.mail.transport import FileTransport, outbox_dir
from pipewise.privacy.erasure_scrub import Pseudonyms


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
