"""The database: `trygg db upgrade|current`."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError, OperationalError

from tasks.commands.common import console, database_unreachable, engine
from workflow import migrate
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
