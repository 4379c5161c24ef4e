"""What every command shares: consoles, options, exit codes, the database, located errors."""

from __future__ import annotations

import getpass
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from workflow import migrate
from workflow.agreement.models import Agreement
from workflow.agreement.validate import AgreementFile, read_agreement
from workflow.audit import LoadResult, UnitOfWork, cli_actor
from workflow.clock import SystemClock
from workflow.cycle.lifecycle import CycleError
from workflow.db import make_engine, session_factory, transaction
from workflow.i18n import _, _l
from workflow.meetings.actions import MeetingError
from workflow.plan.triggers import TriggerError
from workflow.resources import find_agreement_file
from workflow.settings import get_settings
from workflow.source import InputError
from workflow.status import UnknownAgreement, resolve_agreement

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help=_l("print plain JSON"))]
AgreementOpt = Annotated[
    str | None,
    typer.Option("--agreement", help=_l("the agreement's id (may be left out when only one is loaded)")),
]
FileArg = Annotated[
    Path,
    typer.Argument(
        help=_l("the agreement's YAML file, or the name of a shipped example (see `trygg examples`)")
    ),
]

EXIT_INPUT = 2  # the file was refused: nothing was written
EXIT_STATE = 3  # the database is not ready, or the agreement is unknown


def print_json(data: Any) -> None:
    # Plain stdout, not rich: rich wraps long lines and would break the JSON.
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def actor() -> str:
    """Who acts on the command line: the user at this machine."""
    return cli_actor(f"{getpass.getuser()}@{socket.gethostname()}")


def engine() -> Engine:
    return make_engine(get_settings().database_url)


def require_schema(eng: Engine) -> None:
    current, head = migrate.current_revision(eng), migrate.head_revision()
    if current != head:
        err.print(
            _(
                "[red]The database schema is not current (%(current)s ≠ %(head)s).[/] "
                "Run [bold]trygg db upgrade[/].",
                current=current or _("empty"),
                head=head,
            )
        )
        raise typer.Exit(EXIT_STATE)


def report_problems(exc: InputError, as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "errors": [p.as_json() for p in exc.problems]})
    else:
        for problem in exc.problems:
            err.print("[red]" + _("error:") + f"[/] {problem}", markup=True, highlight=False, soft_wrap=True)
        err.print(_("%(n_problems)s error(s); nothing was written.", n_problems=len(exc.problems)))


def read_or_exit(file: Path, as_json: bool) -> AgreementFile:
    """The validated agreement file, or its problems reported and exit 2."""
    try:
        return read_agreement(find_agreement_file(file))
    except InputError as exc:
        report_problems(exc, as_json)
        raise typer.Exit(EXIT_INPUT) from None


@contextmanager
def agreement_transaction(agreement_key: str | None) -> Iterator[tuple[Session, Agreement, UnitOfWork]]:
    """One command's unit of work on one agreement: committed if the command finishes, rolled
    back if it fails; an unknown agreement or a refused action exits 3 with the reason."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            agreement = resolve_agreement(session, agreement_key)
            unit = UnitOfWork(session, SystemClock(), actor(), LoadResult(agreement.key, created=False))
            unit.agreement_id = agreement.id
            yield session, agreement, unit
    except (UnknownAgreement, CycleError, TriggerError, MeetingError) as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(EXIT_STATE) from None
