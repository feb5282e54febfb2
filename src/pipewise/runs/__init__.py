"""The run kernel: what the two engines that move a record through steps over time have in
common. The workflow engine (``automation``) runs any record through a versioned JSON
definition; the sequence engine (``sequences``) runs a contact through a cadence of
e-mails and tasks. Both use from here:

- ``timers``: a step comes due as a durable ``scheduled_action`` (key convention and
  payload shape, over ``events.bus.schedule``);
- ``retry``: how long to wait before trying a failed step again, and when to give up;
- ``verdicts``: ``Verdict`` (may the run take its next step now: go, hold, pause or
  exit, and why) and ``Outcome`` (what a step did);
- ``decisions``: writing a decision (kind, reason, step, data, moment) to an engine's log;
- ``rotation``: the one round-robin, used by lead routing and by workflows that assign
  within a team.

Two enrollment tables and two decision logs remain, on purpose. A workflow enrollment
points at any record type, an immutable definition version, a step id in that JSON,
retry attempts, an armed goal list and a test mode; a sequence enrollment points at a
contact, an account (for account-level coordination), a sender mailbox, a step row, a
waiting task and a pause with a date. The columns hardly overlap, each table is read by
its own hot queries (the worker's batch locks, the guards' account look-ups), and both
hold live data: one table would be mostly empty columns and a migration of running
enrollments for no behaviour gained. What the engines share is the way a run is moved
and explained, which lives here; what a step is and what stops a run stays with each
engine (``automation.engine``, ``sequences.engine`` and ``sequences.guards``). Their
``advance``/``finish``/``run_step`` share names, not logic: one walks a step graph with
waits, branches and goals, chaining steps due now in one transaction; the other walks
ordered step rows placed in the recipient's send window, and waits on tasks and mail.

This package imports only the layers below it (``db``, ``events``, ``auth``,
``records`` and the base modules); it knows neither engine."""

from pipewise.runs.decisions import DecisionLog
from pipewise.runs.retry import RetryPolicy
from pipewise.runs.rotation import Seat, next_seat, rotation, starting_turns
from pipewise.runs.timers import StepTimer, schedule_step, timer_key
from pipewise.runs.verdicts import Outcome, Verdict

__all__ = [
    "DecisionLog",
    "Outcome",
    "RetryPolicy",
    "Seat",
    "StepTimer",
    "Verdict",
    "next_seat",
    "rotation",
    "schedule_step",
    "starting_turns",
    "timer_key",
]
