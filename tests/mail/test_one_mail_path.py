"""All outgoing mail goes through the mail package and leaves from the worker: no module
outside ``pipewise/mail/`` speaks SMTP, builds a MIME message or writes an ``.eml`` file,
and a rep's manual e-mail step sent from the web is only queued there."""

import ast
from pathlib import Path

from sqlalchemy import select

import pipewise
from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.crm.models import Task
from pipewise.sequences.models import EmailMessage
from pipewise.sequences.service import sequence_service
from tests.sequences.support import live_sequence, run_worker, smtp  # noqa: F401 - smtp is a fixture
from tests.web.conftest import WebClient

SOURCE = Path(pipewise.__file__).parent
MAIL_PACKAGE = SOURCE / "mail"
SMTP_MODULES = ("smtplib", "aiosmtplib")
MIME_MODULES = ("email.message", "email.mime")
WRITES = ("write_bytes", "write_text")


def _is_under(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(root + ".") for root in roots)


def mail_problems(tree: ast.AST) -> list[str]:
    """What in a module's syntax tree sends mail on its own: an SMTP client import, a MIME
    message built (reading one is fine), or a file write where an ``.eml`` name appears."""
    problems: list[str] = []
    mime_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_under(alias.name, SMTP_MODULES):
                    problems.append(f"line {node.lineno}: imports {alias.name}")
                elif _is_under(alias.name, MIME_MODULES):
                    mime_names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            if _is_under(node.module, SMTP_MODULES):
                problems.append(f"line {node.lineno}: imports from {node.module}")
            elif _is_under(node.module, MIME_MODULES) or (node.module == "email" and any(a.name in ("message", "mime") for a in node.names)):
                mime_names.update(alias.asname or alias.name for alias in node.names)
    mentions_eml = any(isinstance(n, ast.Constant) and isinstance(n.value, str) and ".eml" in n.value for n in ast.walk(tree))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        root = called
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in mime_names:
            problems.append(f"line {node.lineno}: builds a MIME message")
        if mentions_eml and isinstance(called, ast.Attribute) and called.attr in WRITES:
            problems.append(f"line {node.lineno}: writes a file next to an .eml name")
        if mentions_eml and isinstance(called, ast.Name) and called.id == "open" and _opens_for_writing(node):
            problems.append(f"line {node.lineno}: opens a file for writing next to an .eml name")
    return problems


def _opens_for_writing(call: ast.Call) -> bool:
    modes = [call.args[1]] if len(call.args) > 1 else [k.value for k in call.keywords if k.arg == "mode"]
    return any(not isinstance(m, ast.Constant) or any(c in str(m.value) for c in "wax+") for m in modes)


def test_no_module_outside_the_mail_package_sends_mail():
    offenders = {
        str(path.relative_to(SOURCE)): found
        for path in sorted(SOURCE.rglob("*.py"))
        if MAIL_PACKAGE not in path.parents and (found := mail_problems(ast.parse(path.read_text(), str(path))))
    }
    assert offenders == {}


def test_the_check_sees_each_way_of_sending():
    sends = {
        "import smtplib": 1,
        "from aiosmtplib import send": 1,
        "from email.message import EmailMessage\nm = EmailMessage()": 1,
        "import email.mime.text\nm = email.mime.text.MIMEText('x')": 1,
        "from email import message\nm = message.EmailMessage()": 1,
        "from pathlib import Path\nPath('out/a.eml').write_bytes(b'')": 1,
        "name = 'a.eml'\nwith open(name, 'wb') as f: pass": 1,
    }
    for source, count in sends.items():
        assert len(mail_problems(ast.parse(source))) == count, source
    reads = "import email\nfrom email.message import EmailMessage\nm: EmailMessage = email.message_from_bytes(open('a.eml', 'rb').read())"
    assert mail_problems(ast.parse(reads)) == []


# -- a manual step's message leaves from the worker --


MANUAL = {"kind": "manual_email", "variants": [{"label": "A", "subject": "Quick question, {{ contact.first_name }}",
                                                 "body_html": "<p>Hi {{ contact.first_name }}</p>"}]}


def test_a_manual_step_sent_from_the_today_queue_is_queued_by_the_web_and_sent_by_the_worker(api, factory, session, smtp):
    from pipewise import domains

    domains.load()
    rep = factory.user(name="Rita Rep")
    contact = factory.contact(rep, first_name="Grace")
    sequence = live_sequence(session, "Manual", [MANUAL])
    sequence_service.enroll(session, sequence_id=sequence.id, contact_id=contact.id, actor=SYSTEM_ACTOR)
    session.commit()
    run_worker()
    task = session.scalar(select(Task).where(Task.status == "open", Task.owner_id == rep.id))
    web = WebClient(api)
    web.login(rep)

    answer = web.post(f"/today/{task.id}/send", {"subject": "Quick question, Grace", "body": "Free on Friday?"})
    assert answer.status_code == 200 and "queued for sending" in answer.text
    session.rollback()
    message = session.scalar(select(EmailMessage).where(EmailMessage.to_address == contact.email))
    assert message.status == "queued" and smtp.handler.to(contact.email) == [], "the web process only queues"

    run_worker()
    (delivered,) = smtp.handler.to(contact.email)
    assert delivered["Subject"] == "Quick question, Grace"
    assert "Free on Friday?" in delivered.get_body(("plain",)).get_content()
    session.rollback()
    assert session.get(EmailMessage, message.id).status == "sent"
