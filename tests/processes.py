"""Worker OS processes for the crash and concurrency tests.

A spawned interpreter spends about two seconds of CPU importing Pipewise before it does any
work, and the crash tests start twenty-odd of them while the rest of the suite runs. These
processes come from a fork server instead: a fresh interpreter (no connection, thread or
lock of the test process in it) that has imported Pipewise once and forks each worker from
there. Importing reads no settings (``get_settings`` and the engine are made on first use),
and each child takes the test's environment as it is when the child starts, as a spawned
one would."""

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import Any

PRELOAD = ["pipewise.domains", "pipewise.worker.runner", "httpx"]


def context() -> BaseContext:
    """The fork server's context, for its Barrier, Queue and the like."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the server starts (the first process)
    return ctx


def _in_environment(environment: dict[str, str], target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    os.environ.clear()
    os.environ.update(environment)
    target(*args)


def worker_process(target: Callable[..., Any], args: tuple[Any, ...] = (), *, daemon: bool | None = None) -> BaseProcess:
    """An unstarted process that runs ``target(*args)`` in the test's current environment."""
    return context().Process(target=_in_environment, args=(dict(os.environ), target, args), daemon=daemon)
