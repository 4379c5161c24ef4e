"""`trygg db backup FILE`: a consistent copy of the embedded SQLite database while it is written."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

from tests.conftest import HARNOSAND, spawn_trygg, trygg
from workflow import migrate


def _count(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_backup_taken_while_another_connection_writes_is_whole_and_consistent(tmp_path):
    database = tmp_path / "trygg.db"
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{database}"}
    assert trygg("db", "upgrade", env=env).returncode == 0
    assert trygg("load", str(HARNOSAND), env=env).returncode == 0
    stop, written = threading.Event(), []

    def write() -> None:  # as `trygg run` does: short write transactions, one after another
        with closing(sqlite3.connect(database, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            while not stop.is_set() or len(written) < 20:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "insert into heartbeats (role, name, started_at, last_seen_at) "
                    "values ('worker', ?, '2012-12-17 07:00:00', '2012-12-17 07:00:00')",
                    (f"writer:{len(written)}",),
                )
                conn.execute("COMMIT")
                written.append(1)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 20:  # the backup starts while the writer is busy
            assert writer.is_alive(), "the writer failed"
            stop.wait(0.01)
        result = spawn_trygg("db", "backup", str(tmp_path / "copy.db"), env=env)
    finally:
        stop.set()
        writer.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert "copy.db" in result.stdout

    with closing(sqlite3.connect(tmp_path / "copy.db")) as copy, closing(sqlite3.connect(database)) as live:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file on its own
        assert (
            copy.execute("select version_num from alembic_version").fetchone()[0] == migrate.head_revision()
        )
        for table in ("agreements", "activities", "people", "audit_log", "meetings"):
            assert _count(copy, table) == _count(live, table) > 0, table
        # The writer's rows as of one instant: some, not all, and no torn row.
        copied = _count(copy, "heartbeats")
        assert 20 <= copied <= _count(live, "heartbeats")
    assert not list(tmp_path.glob(".copy.db.*"))  # no partial file left


def test_an_existing_file_is_not_overwritten(tmp_path):
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}"}
    assert trygg("db", "upgrade", env=env).returncode == 0
    (tmp_path / "copy.db").write_text("yesterday's backup")
    result = trygg("db", "backup", str(tmp_path / "copy.db"), env=env)
    assert result.returncode == 2 and "copy.db" in result.stderr
    assert (tmp_path / "copy.db").read_text() == "yesterday's backup"


def test_postgresql_is_refused_with_pg_dump_named(tmp_path):
    env = {"TRYGG_DATABASE_URL": "postgresql+psycopg://trygg:Hemligt42@127.0.0.1:1/trygg"}
    result = trygg("db", "backup", str(tmp_path / "copy.db"), env=env)
    assert result.returncode == 2
    assert "pg_dump" in result.stderr and "Hemligt42" not in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_a_missing_database_or_folder_is_a_clear_error(tmp_path):
    missing = trygg(
        "db", "backup", str(tmp_path / "c.db"), env={"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'no.db'}"}
    )
    assert missing.returncode == 3 and not (tmp_path / "no.db").exists()
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}"}
    assert trygg("db", "upgrade", env=env).returncode == 0
    nowhere = trygg("db", "backup", str(tmp_path / "no-such-folder" / "c.db"), env=env)
    assert nowhere.returncode == 2 and "no-such-folder/c.db" in nowhere.stderr.replace("\n", "")
