"""A consistent copy of the embedded SQLite database while trygg keeps running (SQLite's online backup).

The copy is read in one read transaction: in WAL mode writers go on meanwhile, and the copy is
the database as of one instant. It is written beside the target and moved into place only once
it is whole and passes `PRAGMA integrity_check`, so a failed backup never leaves half a file
under the target's name. PostgreSQL has its own tool for this (pg_dump).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(ValueError):
    """The database is not an SQLite file this process can copy."""


@dataclass(frozen=True)
class Backup:
    source: Path
    target: Path
    size: int  # bytes
    integrity: str  # "ok", or what integrity_check found


def sqlite_file(url: str) -> Path:
    """The file behind an SQLite URL; BackupRefused for another back end or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(parsed.get_backend_name())
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("sqlite :memory:")
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> Backup:
    """Copy `source` to `target` as of one instant; the copy is checked before it is put in place."""
    if not source.is_file():
        raise FileNotFoundError(2, "no database file", str(source))
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    open(partial, "xb").close()  # a target folder that is missing or not writable: an OSError naming it
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # all pages in one step: one read transaction, one instant
            # One file on its own: no -wal beside it to be forgotten when it is moved.
            dst.execute("PRAGMA journal_mode=DELETE")
            integrity = "; ".join(row[0] for row in dst.execute("PRAGMA integrity_check"))
        if integrity == "ok":
            os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(source, target, target.stat().st_size if integrity == "ok" else 0, integrity)
