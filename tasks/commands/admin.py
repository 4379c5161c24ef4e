"""`trygg admin add|remove|list`: the deployment's administrators, who see every agreement."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tasks.commands.common import (
    EXIT_INPUT,
    JsonFlag,
    actor,
    console,
    engine,
    err,
    print_json,
    require_schema,
)
from workflow.addresses import AddressError, parse_address
from workflow.audit import UnitOfWork
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.desk.access import add_admin, admins, remove_admin
from workflow.i18n import _, _l

app = typer.Typer(
    help=_l("The deployment's administrators: they see every agreement on the web."), no_args_is_help=True
)

EmailArg = Annotated[str, typer.Argument(help=_l("the administrator's e-mail address"))]


def _address(email: str) -> str:
    """The address as given, if it is one (exit 2 otherwise)."""
    try:
        parse_address(email)
    except AddressError as exc:
        err.print(
            _("[red]%(email)r is not an e-mail address:[/] %(reason)s", email=email, reason=exc),
            highlight=False,
        )
        raise typer.Exit(EXIT_INPUT) from None
    return email.strip().lower()


@app.command("add", help=_l("Make an address an administrator (audited)."))
def add(email: EmailArg) -> None:
    address = _address(email)
    eng = engine()
    require_schema(eng)
    with transaction(session_factory(eng)) as session:
        add_admin(UnitOfWork(session, SystemClock(), actor()), address)
    console.print(_("%(email)s is an administrator.", email=address), highlight=False)


@app.command("remove", help=_l("An address is no longer an administrator (audited)."))
def remove(email: EmailArg) -> None:
    address = email.strip().lower()
    eng = engine()
    require_schema(eng)
    with transaction(session_factory(eng)) as session:
        removed = remove_admin(UnitOfWork(session, SystemClock(), actor()), address)
    if not removed:
        err.print(_("[red]%(email)s is not an administrator.[/]", email=address), highlight=False)
        raise typer.Exit(EXIT_INPUT)
    console.print(_("%(email)s is no longer an administrator.", email=address), highlight=False)


@app.command("list", help=_l("The administrators, when and by whom each was added."))
def list_admins(as_json: JsonFlag = False) -> None:
    eng = engine()
    require_schema(eng)
    with transaction(session_factory(eng)) as session:
        rows = admins(session)
    if as_json:
        print_json(
            {"admins": [{"email": e, "added_at": at.isoformat(), "added_by": by} for e, at, by in rows]}
        )
        return
    if not rows:
        console.print(_("No administrators."))
        return
    table = Table(expand=True)
    table.add_column(_("E-mail"), overflow="fold")
    table.add_column(_("Added"), no_wrap=True)
    table.add_column(_("By"), overflow="fold")
    for email, at, by in rows:
        table.add_row(email, at.isoformat(timespec="minutes"), by)
    console.print(table)
