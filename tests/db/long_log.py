"""A process with a long write-ahead log, as the engine lets it grow when the checkpoint
thread falls behind, while another process opens, reads and closes the same database
(tests/db/test_wal.py)."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from pipewise.db import wal
from pipewise.db.session import make_engine

PAGE = 4096
REGION_FRAMES = 4096  # frames one 32 KB region of the log's shared index (-shm) covers
OTHER_PROCESS = "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT count(*) FROM filler').fetchone(); c.close()"


def write_pages(engine, pages: int) -> int:  # type: ignore[no-untyped-def]
    """About ``pages`` pages of new rows, four per transaction, as requests write them; the
    rows written."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (body BLOB)"))
    for _ in range(pages // 4):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO filler VALUES (randomblob(:size))"), {"size": 3 * PAGE})
    return pages // 4


# Half the engine's bound, which takes half the time and still needs two regions.
BOUND_PAGES = 5_000


def run(path: str, read_own_files: bool) -> None:
    """Fill the log to the bound (its index then spans two regions) and past it (the log
    starts again), let another process in, then write past the first region. ``read_own_files``:
    read the database's files with plain file I/O first, which drops this process's locks."""
    wal.BOUND_PAGES = BOUND_PAGES
    engine = make_engine(f"sqlite:///{path}")
    wal.checkpoint_in_background(engine).stop()  # fallen behind: the log grows to the bound
    rows = write_pages(engine, BOUND_PAGES + REGION_FRAMES // 4)
    assert os.path.getsize(f"{path}-shm") == 2 * 32 * 1024
    if read_own_files:
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).read_bytes()
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, path], check=True)
    rows += write_pages(engine, REGION_FRAMES + REGION_FRAMES // 4)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM filler").scalar() == rows
    engine.dispose()
