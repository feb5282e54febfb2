"""Workflows join the kernel: their timeline, the engine's handlers and the adapters."""

from pipewise.automation import handlers
from pipewise.automation.explanations import automation_timeline
from pipewise.kernel import Kernel


def register(kernel: Kernel) -> None:
    # Text that may mention a person: scrubbed when one is erased.
    kernel.scrubbed_columns("automation_decision", "message", "details")
    kernel.scrubbed_columns("automation_effect", "outcome")
    kernel.scrubbed_columns("automation_override", "reason")
    kernel.scrubbed_columns("workflow_enrollment", "wait_event", "exit_reason")
    kernel.timeline_source(automation_timeline)
    kernel.handlers(handlers.TABLE)
    kernel.api("pipewise.api.v1.automation:router")
    kernel.api("pipewise.api.v1.holdouts:workflow_router")
    kernel.web("pipewise.web.automation.pages:router")
    kernel.web("pipewise.web.holdouts.pages:workflow_router")
    kernel.cli("workflows", "pipewise.cli.workflows:workflows_app")
