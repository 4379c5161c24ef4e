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
from workflow.audit import LoadResult, UnitOfWork
from workflow.clock import SystemClock
from workflow.cycle.lifecycle import CycleError
from workflow.db import make_engine, session_factory, transaction
from workflow.meetings.actions import MeetingError
from workflow.plan.triggers import TriggerError
from workflow.resources import find_agreement_file
from workflow.settings import get_settings
from workflow.source import InputError
from workflow.status import UnknownAgreement, resolve_agreement

console = Console()
err = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="skriv ren JSON / print plain JSON")]
AgreementOpt = Annotated[
    str | None,
    typer.Option("--agreement", help="överenskommelsens id (kan utelämnas när bara en är inläst)"),
]
FileArg = Annotated[
    Path,
    typer.Argument(
        help="överenskommelsens YAML-fil, eller namnet på ett medföljande exempel "
        "(se `trygg examples`) / the agreement file, or a shipped example's name"
    ),
]

EXIT_INPUT = 2  # the file was refused: nothing was written
EXIT_STATE = 3  # the database is not ready, or the agreement is unknown


def t(sv: str, en: str) -> str:
    """Swedish first; English with TRYGG_LANGUAGE=en."""
    return en if get_settings().language == "en" else sv


def print_json(data: Any) -> None:
    # Plain stdout, not rich: rich wraps long lines and would break the JSON.
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def actor() -> str:
    return f"cli:{getpass.getuser()}@{socket.gethostname()}"


def engine() -> Engine:
    return make_engine(get_settings().database_url)


def require_schema(eng: Engine) -> None:
    current, head = migrate.current_revision(eng), migrate.head_revision()
    if current != head:
        err.print(
            t(
                f"[red]Databasen har inte aktuellt schema ({current or 'tom'} ≠ {head}).[/] "
                "Kör [bold]trygg db upgrade[/].",
                f"[red]The database schema is not current ({current or 'empty'} ≠ {head}).[/] "
                "Run [bold]trygg db upgrade[/].",
            )
        )
        raise typer.Exit(EXIT_STATE)


def report_problems(exc: InputError, as_json: bool) -> None:
    if as_json:
        print_json({"ok": False, "errors": [p.as_json() for p in exc.problems]})
    else:
        for problem in exc.problems:
            err.print(f"[red]fel:[/] {problem}", markup=True, highlight=False, soft_wrap=True)
        err.print(
            t(
                f"{len(exc.problems)} fel; ingenting har skrivits.",
                f"{len(exc.problems)} error(s); nothing was written.",
            )
        )


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
