"""What every command shares: consoles, options, exit codes, the database, located errors."""

from __future__ import annotations

import errno
import getpass
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from workflow import migrate
from workflow.agreement.lifecycle import ArchivedAgreement, guard
from workflow.agreement.models import Agreement
from workflow.agreement.validate import AgreementFile, read_agreement
from workflow.audit import LoadResult, UnitOfWork, cli_actor
from workflow.clock import FIRST_YEAR, LAST_YEAR, OutOfWindow, SystemClock, day_in_window, in_window
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

EXIT_FAILED = 1  # anything else, e.g. a full disk
EXIT_INPUT = 2  # the file was refused: nothing was written
EXIT_STATE = 3  # the database is not ready, or the agreement is unknown

# A date or instant this far outside the agreement's period gets a warning (it may be a typo).
FAR_FROM_PERIOD = timedelta(days=366)


def print_json(data: Any) -> None:
    # Plain stdout, not rich: rich wraps long lines and would break the JSON.
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def actor() -> str:
    """Who acts on the command line: the user at this machine."""
    return cli_actor(f"{getpass.getuser()}@{socket.gethostname()}")


def engine() -> Engine:
    try:
        return make_engine(get_settings().database_url)
    except OSError as exc:  # the SQLite file's folder cannot be made
        database_unreachable(exc)


def database_unreachable(exc: Exception) -> NoReturn:
    """The database cannot be opened or reached: say where (never the password) and why, exit 3."""
    reason = getattr(exc, "orig", None) or exc
    url = get_settings().redacted()["database_url"]
    first_line = (str(reason).strip().splitlines() or [""])[0]
    err.print(
        _("[red]The database %(url)s cannot be reached:[/] %(reason)s", url=url, reason=first_line),
        highlight=False,
    )
    raise typer.Exit(EXIT_STATE)


def require_schema(eng: Engine) -> None:
    """Exit 3 unless the database answers and has the current schema."""
    try:
        current, head = migrate.current_revision(eng), migrate.head_revision()
    except (DBAPIError, OSError) as exc:
        database_unreachable(exc)
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


def bad_option(option: str, message: str) -> typer.BadParameter:
    """The error for an option's value: click prints it with usage, exit 2, nothing written."""
    return typer.BadParameter(message, param_hint=option)


def _window_error(option: str, value: str) -> typer.BadParameter:
    return bad_option(
        option,
        _("%(value)r is outside the years %(first)s–%(last)s", value=value, first=FIRST_YEAR, last=LAST_YEAR),
    )


def day_option(value: str, option: str) -> date:
    """A day ÅÅÅÅ-MM-DD given on the command line, within the years trygg accepts; never empty."""
    try:
        return day_in_window(date.fromisoformat(value.strip()))
    except OutOfWindow:
        raise _window_error(option, value) from None
    except ValueError:
        raise bad_option(option, _("invalid date %(value)r (write YYYY-MM-DD)", value=value)) from None


def instant_option(value: str, option: str, tz: str) -> datetime:
    """An ISO instant given on the command line (read in `tz` without an offset), within the
    years trygg accepts; never empty (an empty --now is not "now")."""
    try:
        parsed = datetime.fromisoformat(value.strip())
        return in_window(parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz)))
    except OutOfWindow:
        raise _window_error(option, value) from None
    except ValueError:
        raise bad_option(
            option,
            _("invalid time %(value)r (write YYYY-MM-DDTHH:MM, best with a zone: +01:00)", value=value),
        ) from None


def year_option(value: int | None, option: str = "--year") -> int | None:
    """A year within the window trygg accepts (or None)."""
    if value is not None and not FIRST_YEAR <= value <= LAST_YEAR:
        raise _window_error(option, str(value))
    return value


def warn_if_far(option: str, shown: object, days: tuple[date, date], period: tuple[date, date]) -> None:
    """A warning when the `days` an option names lie far outside the agreement's period: allowed
    (a drill, an old year), but likely a typo."""
    (first, last), (start, end) = days, period
    if last >= start - FAR_FROM_PERIOD and first <= end + FAR_FROM_PERIOD:
        return
    err.print(
        _(
            "[yellow]warning:[/] %(option)s %(value)s is far outside the agreement's period %(start)s – %(end)s",
            option=option,
            value=shown,
            start=start.isoformat(),
            end=end.isoformat(),
        ),
        highlight=False,
    )


def period_of(agreement: Agreement) -> tuple[date, date]:
    return agreement.period_start, agreement.period_end


def write_output(path: Path, data: str | bytes, option: str) -> None:
    """Write a file the user asked for; a path that cannot be written is a clear error, no traceback
    (a directory, a missing folder, no permission: exit 2; anything else, e.g. a full disk: exit 1)."""
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        output_failed(exc, path, option)


def output_failed(exc: OSError, path: Path | str, option: str) -> NoReturn:
    """Say which file could not be written and why; exit 2 for a bad path, 1 for the rest."""
    reason = exc.strerror or str(exc)
    where = exc.filename or path
    err.print(
        _("[red]%(option)s: cannot write %(path)s: %(reason)s[/]", option=option, path=where, reason=reason),
        highlight=False,
    )
    bad_path = exc.errno in (
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOENT,
        errno.EACCES,
        errno.EPERM,
        errno.EEXIST,
    )
    raise typer.Exit(EXIT_INPUT if bad_path else EXIT_FAILED) from None


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


def refuse_archived(exc: ArchivedAgreement) -> NoReturn:
    """A write to an archived agreement: say so, exit 2; the transaction was rolled back."""
    err.print(f"[red]{exc}[/]", highlight=False)
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
            # Reading an archived agreement is fine; its first change is refused (exit 2).
            yield session, agreement, guard(unit, agreement)
    except ArchivedAgreement as exc:
        refuse_archived(exc)
    except (UnknownAgreement, CycleError, TriggerError, MeetingError) as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(EXIT_STATE) from None
