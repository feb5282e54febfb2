"""Whose turn it is to write to a SQLite database, across threads and processes.

SQLite lets one connection write at a time. A writer that finds the database taken waits
in SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 … up to 100 ms) and
does not notice the moment the writer before it commits: against a ``pipewise worker``
that goes straight on to its next batch, an API request slept through several of the
worker's transactions, and the requests queued behind it.

Writers here take turns instead. The threads of one process queue on a lock; processes
queue on an exclusive ``flock`` of a file beside the database (``<database>-writer``),
which the kernel hands to a waiter the moment its holder lets go (or exits). The turn is
taken before SQLite's own lock (``BEGIN IMMEDIATE``), so that one is then free at once; a
writer that does not know the file (the sqlite3 shell, a backup) is still waited for by
SQLite's busy timeout, as before."""

import fcntl
import logging
import os
import threading
import time

log = logging.getLogger("pipewise.db")


class _FileWait:
    """A blocking ``flock`` in a thread of its own, so that its waiter can give up at a
    deadline (the call itself has no timeout). If the waiter has given up by the time the
    lock comes, the lock is let go at once."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.done = threading.Event()
        self.error: OSError | None = None
        self.gave_up = False
        self._mutex = threading.Lock()

    def run(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as exc:
            self.error = exc
        with self._mutex:
            if self.gave_up:
                os.close(self.fd)
                return
            self.done.set()

    def outcome(self, seconds: float) -> bool:
        """Whether the lock came within ``seconds``; if not, the wait is abandoned."""
        if self.done.wait(max(seconds, 0.0)):
            return True
        with self._mutex:
            if self.done.is_set():
                return True
            self.gave_up = True
            return False


def _open(path: str) -> int:
    # Read access is all a flock needs (nothing is ever written to the file), so a process
    # of another user that may write the database takes its turn too.
    return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _wait_for_lock(path: str, deadline: float) -> int | None:
    """A new descriptor of ``path`` holding its exclusive flock, or None at the deadline.
    A flock belongs to the open file: a wait that is abandoned and gets the lock later
    holds it on a descriptor of its own, never on the one the next turn uses."""
    fd = _open(path)
    wait = _FileWait(fd)
    threading.Thread(target=wait.run, name="pipewise-writer-turn", daemon=True).start()
    if not wait.outcome(deadline - time.monotonic()):
        return None  # the wait's thread closes the descriptor when the lock comes
    if wait.error is not None:
        os.close(fd)
        raise wait.error
    return fd


class WriterTurn:
    """The write turn on one SQLite database file (see the module's docstring)."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-writer"
        self._threads = threading.Lock()
        self._held: int | None = None
        # The file stays open for the turns that find it free (most of them); a process
        # forked from this one opens its own, or it would share this one's lock.
        self._fd: int | None = None
        self._pid = 0
        self._warned = False  # a turn without its file is told once, not at every write
        # When another process last held the turn as this one asked for it (time.monotonic()).
        self.last_kept_waiting = float("-inf")

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the turn. False: not had, the caller falls
        back to SQLite's own busy wait."""
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=timeout):
            return False
        return self._take_file(deadline)

    def try_acquire(self) -> bool:
        """The turn if it is free this moment, in this process and in the others; never
        waits (nor falls back to SQLite's busy wait: False if the file cannot be locked)."""
        if not self._threads.acquire(blocking=False):
            return False
        return self._take_file(None)

    def _take_file(self, deadline: float | None) -> bool:
        """The file's lock, this process's threads' lock being held: waited for until
        ``deadline``, or only taken if free (None)."""
        try:
            self._held = self._lock(deadline)
        except OSError:  # e.g. no room for the file: the other processes are waited for by SQLite alone
            if deadline is None:
                self._threads.release()
                return False
            if not self._warned:
                self._warned = True
                log.warning("cannot lock %s; writers of other processes are waited for by SQLite's busy timeout",
                            self.path, exc_info=True)
            return True
        except BaseException:  # interrupted while waiting: the threads' lock must not stay taken
            self._threads.release()
            raise
        if self._held is None:
            self._threads.release()
            return False
        return True

    def _lock(self, deadline: float | None) -> int | None:
        if self._fd is None or self._pid != os.getpid():
            self._fd, self._pid = _open(self.path), os.getpid()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return self._fd
        except BlockingIOError:
            self.last_kept_waiting = time.monotonic()
            return None if deadline is None else _wait_for_lock(self.path, deadline)

    def locked(self) -> bool:
        """Whether a thread of this process holds the turn."""
        return self._threads.locked()

    def release(self) -> None:
        held, self._held = self._held, None
        if held is not None and held == self._fd:
            fcntl.flock(held, fcntl.LOCK_UN)
        elif held is not None:
            os.close(held)  # closing a waited-for descriptor lets its flock go
        self._threads.release()
