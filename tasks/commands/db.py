"""The database: `trygg db upgrade|current`."""

from __future__ import annotations

from typing import Annotated

import typer

from tasks.commands.common import console, engine, t
from workflow import migrate
from workflow.settings import get_settings

app = typer.Typer(help="Databasen / the database", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Skapa eller uppgradera databasens schema / create or upgrade the schema."""
    eng = engine()
    migrate.upgrade(eng, revision)
    url = get_settings().redacted()["database_url"]
    console.print(
        t(
            f"Databasen {url} har schema {migrate.current_revision(eng)}.",
            f"Database {url} is at schema {migrate.current_revision(eng)}.",
        ),
        highlight=False,
    )


@app.command("current")
def db_current() -> None:
    """Visa databasens schemaversion / show the schema revision."""
    eng = engine()
    console.print(f"{migrate.current_revision(eng) or '-'} (head {migrate.head_revision()})")
