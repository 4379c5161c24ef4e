"""The database: `trygg db upgrade|current|backup`."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError, OperationalError

from tasks.commands.common import (
    EXIT_INPUT,
    EXIT_STATE,
    console,
    database_unreachable,
    engine,
    err,
    output_failed,
)
from workflow import migrate
from workflow.backup import BackupRefused, backup_sqlite, sqlite_file
from workflow.i18n import _, _l
from workflow.settings import get_settings

app = typer.Typer(help=_l("The database"), no_args_is_help=True)


@app.command("upgrade", help=_l("Create or upgrade the database's schema."))
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Create or upgrade the schema."""
    eng = engine()
    try:
        migrate.upgrade(eng, revision)
    except (OperationalError, OSError) as exc:
        database_unreachable(exc)
    url = get_settings().redacted()["database_url"]
    console.print(
        _("Database %(url)s is at schema %(revision)s.", url=url, revision=migrate.current_revision(eng)),
        highlight=False,
    )


@app.command("current", help=_l("Show the database's schema revision."))
def db_current() -> None:
    """Show the schema revision."""
    eng = engine()
    try:
        current = migrate.current_revision(eng)
    except (DBAPIError, OSError) as exc:
        database_unreachable(exc)
    console.print(f"{current or '-'} (head {migrate.head_revision()})")


@app.command("backup", help=_l("Copy the embedded SQLite database while trygg runs."))
def db_backup(
    file: Annotated[Path, typer.Argument(help=_l("the copy's file (must not exist)"))],
) -> None:
    """Copy the embedded SQLite database, live (SQLite's online backup)."""
    settings = get_settings()
    try:
        source = sqlite_file(settings.database_url)
    except BackupRefused:
        err.print(
            _(
                "[red]trygg db backup copies only the embedded SQLite database; back %(url)s up with "
                "PostgreSQL's own tool:[/] pg_dump --format=custom --file %(file)s DATABASE-URL "
                "(see docs/deploy.md)",
                url=settings.redacted()["database_url"],
                file=file,
            ),
            highlight=False,
        )
        raise typer.Exit(EXIT_INPUT) from None
    if file.exists():
        err.print(_("[red]%(file)s already exists.[/]", file=file), highlight=False)
        raise typer.Exit(EXIT_INPUT)
    try:
        copy = backup_sqlite(source, file)
    except sqlite3.DatabaseError as exc:
        database_unreachable(exc)
    except OSError as exc:
        if exc.filename == str(source):
            database_unreachable(exc)
        output_failed(
            OSError(exc.errno, exc.strerror, str(file)), file, "FILE"
        )  # the target, not its .partial
    if copy.integrity != "ok":
        err.print(_("[red]The copy is damaged:[/] %(found)s", found=copy.integrity))
        raise typer.Exit(EXIT_STATE)
    console.print(
        _(
            "The backup is written: %(file)s (%(size)s bytes, integrity check ok).",
            file=copy.target,
            size=copy.size,
        ),
        highlight=False,
    )
