"""Sequences join the kernel: their timeline, signal handlers, mail hooks and adapters."""

from pipewise.kernel import Kernel
from pipewise.mail import hooks
from pipewise.sequences import handlers
from pipewise.sequences.decisions import sequence_timeline
from pipewise.sequences.mail_hooks import SequenceMailHooks


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("enrollment", "reason")
    kernel.scrubbed_columns("sequence_decision", "reason", "data")
    kernel.owned_table("sequence", "sequence", "sequences")
    kernel.owned_table("email_template", "e-mail template", "e-mail templates")
    kernel.timeline_source(sequence_timeline)
    kernel.handlers(handlers.TABLE)
    hooks.register(SequenceMailHooks())
    kernel.api("pipewise.api.v1.sequences:router")
    kernel.api("pipewise.api.v1.sequences:public_router")
    kernel.api("pipewise.api.v1.holdouts:sequence_router")
    for page in ("pages", "steps", "enrollments", "today"):
        kernel.web(f"pipewise.web.sequences.{page}:router")
    kernel.web("pipewise.web.holdouts.pages:sequence_router")
    kernel.cli("sequences", "pipewise.cli.sequences:sequences_app")
