"""`pipewise mail …`: poll IMAP for replies, feed a raw message in, look at the local
outbox, manage the suppression list."""

from pathlib import Path

import typer
from rich.table import Table

from pipewise.auth.visibility import SYSTEM_ACTOR
from pipewise.cli.output import out
from pipewise.db.session import session_scope
from pipewise.mail.suppression import suppression_service
from pipewise.mail.transport import outbox_dir
from pipewise.sequences import inbound

mail_app = typer.Typer(help="E-mail: IMAP polling, inbound messages, the local outbox, suppression.", no_args_is_help=True)


@mail_app.command()
def poll() -> None:
    """Fetch unseen messages from every configured IMAP account and process them."""
    results = inbound.poll_all()
    if not results:
        out.print("No IMAP account is configured (PIPEWISE_IMAP_* or a mailbox's IMAP settings).")
        return
    for account, outcomes in results.items():
        if isinstance(outcomes, str):
            out.print(f"{account}: {outcomes}")
            continue
        out.print(f"{account}: {len(outcomes)} message(s)")
        for outcome in outcomes:
            out.print(f"  {outcome.kind:<10} {outcome.message_id}  {outcome.detail}")


@mail_app.command("inbound")
def inbound_file(path: Path = typer.Argument(..., exists=True, dir_okay=False, help="a raw RFC 822 message (.eml)")) -> None:
    """Process one raw message as if it had arrived (reply, auto-reply or bounce report)."""
    with session_scope() as session:
        outcome = inbound.process(session, path.read_bytes())
    out.print(f"{outcome.kind}: {outcome.detail}")


@mail_app.command()
def outbox(limit: int = typer.Option(20, help="how many of the newest messages to list")) -> None:
    """List the .eml files written when no SMTP server is configured."""
    folder = outbox_dir()
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:limit] if folder.exists() else []
    table = Table("file", "size")
    for file in files:
        table.add_row(str(file), f"{file.stat().st_size:,} B")
    out.print(table if files else f"The outbox ({folder}) is empty.")


@mail_app.command()
def suppress(address: str, reason: str = typer.Option("manual", help="unsubscribe, bounce, complaint or manual")) -> None:
    """Never e-mail ADDRESS again, from any sequence or workflow."""
    with session_scope() as session:
        row = suppression_service.add(session, address=address, reason=reason, detail="added from the command line", actor=SYSTEM_ACTOR)
        out.print(f"{row.address} is suppressed ({row.reason}).")
