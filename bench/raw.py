"""The raw baselines: the same rows and queries through the bare driver (sqlite3 with the
same pragmas as the application, or psycopg), no SQLAlchemy, no validation."""

import sqlite3
from collections import defaultdict
from typing import Any

from sqlalchemy.engine import make_url

from pipewise.db.session import SQLITE_PRAGMAS

TRAIL_TABLES = ("record_history", "outbox_event")


def connect(url: str) -> Any:
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        return conn
    import psycopg

    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def is_sqlite(conn: Any) -> bool:
    return isinstance(conn, sqlite3.Connection)


def begin(conn: Any) -> None:
    if is_sqlite(conn):
        conn.execute("BEGIN IMMEDIATE")


def placeholders(conn: Any, n: int) -> str:
    return ", ".join(["?" if is_sqlite(conn) else "%s"] * n)


def _adapt(conn: Any, row: tuple) -> tuple:
    if is_sqlite(conn):
        return row
    from psycopg.types.json import Jsonb

    return tuple(Jsonb(v) if isinstance(v, (dict, list)) else v for v in row)


class CreatedRows:
    """The rows a run of creates wrote (the records, their history and outbox rows), read
    back so they can be written again raw."""

    def __init__(self, conn: Any, record_table: str = "contact") -> None:
        self.record_table = record_table
        self.tables = (record_table, *TRAIL_TABLES)
        self.columns: dict[str, list[str]] = {}
        self.rows: dict[str, list[tuple]] = {}
        for table in self.tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            self.columns[table] = [d[0] for d in cur.description]
            self.rows[table] = [_adapt(conn, tuple(r)) for r in cur.fetchall()]
        self.count = len(self.rows[record_table])

    def insert_sql(self, conn: Any, table: str) -> str:
        cols = self.columns[table]
        return f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({placeholders(conn, len(cols))})'

    def clear(self, conn: Any) -> None:
        begin(conn)
        for table in self.tables:
            conn.execute(f'DELETE FROM "{table}"')
        _commit(conn)

    def executemany(self, conn: Any) -> None:
        """All rows in one transaction, one executemany per table."""
        begin(conn)
        cur = conn.cursor()
        for table in self.tables:
            cur.executemany(self.insert_sql(conn, table), self.rows[table])
        _commit(conn)

    def per_record_transactions(self, conn: Any) -> None:
        """One transaction per record with its history and outbox rows, as a request does."""
        by_record: dict[str, dict[Any, list[tuple]]] = {}
        for table in TRAIL_TABLES:
            index = self.columns[table].index("record_id")
            grouped: dict[Any, list[tuple]] = defaultdict(list)
            for row in self.rows[table]:
                grouped[row[index]].append(row)
            by_record[table] = grouped
        sql = {t: self.insert_sql(conn, t) for t in self.tables}
        id_index = self.columns[self.record_table].index("id")
        cur = conn.cursor()
        for record in self.rows[self.record_table]:
            begin(conn)
            cur.execute(sql[self.record_table], record)
            for table in TRAIL_TABLES:
                for row in by_record[table][record[id_index]]:
                    cur.execute(sql[table], row)
            _commit(conn)


def _commit(conn: Any) -> None:
    if is_sqlite(conn):
        conn.execute("COMMIT")
    else:
        conn.commit()


def rewrite_in_one_transaction(url: str) -> tuple[float, float]:
    """The contacts a run wrote, with their history and outbox rows, read back, deleted and
    written again through the bare driver in one transaction: contacts per second of wall
    time and of this process's CPU time."""
    from bench.report import cpu_stopwatch, stopwatch

    conn = connect(url)
    rows = CreatedRows(conn)
    rows.clear(conn)
    with stopwatch() as seconds, cpu_stopwatch() as cpu:
        rows.executemany(conn)
    conn.close()
    return rows.count / seconds[0], rows.count / cpu[0]
