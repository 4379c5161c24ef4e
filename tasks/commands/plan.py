"""The action plan: `trygg plan import`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tasks.commands.common import (
    EXIT_INPUT,
    EXIT_STATE,
    AgreementOpt,
    JsonFlag,
    actor,
    console,
    engine,
    err,
    print_json,
    refuse_archived,
    report_problems,
    require_schema,
    year_option,
)
from workflow.agreement.lifecycle import ArchivedAgreement
from workflow.clock import SystemClock
from workflow.db import session_factory
from workflow.i18n import _, _l
from workflow.loading import import_plan, lock_agreement
from workflow.plan.importing import default_year, read_plan_import
from workflow.source import InputError
from workflow.status import UnknownAgreement, resolve_agreement

app = typer.Typer(help=_l("The action plan"), no_args_is_help=True)


AllowWithdraw = Annotated[
    bool,
    typer.Option("--allow-withdraw", help=_l("allow withdrawing more than a third of the plan's activities")),
]


KeepUnreadable = Annotated[
    bool,
    typer.Option(
        "--keep-unreadable",
        help=_l(
            "keep rows whose När cannot be read, as activities without timing (no reminders until "
            "one is set); each is listed as a warning"
        ),
    ),
]


@app.command("import", help=_l("Import a revised action plan."))
def plan_import(
    file: Annotated[Path, typer.Argument(help=_l("the plan: text copied from Word, CSV or XLSX"))],
    agreement: AgreementOpt = None,
    year: Annotated[
        int | None, typer.Option("--year", help=_l("the year of operations the plan is for"))
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=_l("show what would change, write nothing"))
    ] = False,
    allow_withdraw: AllowWithdraw = False,
    keep_unreadable: KeepUnreadable = False,
    as_json: JsonFlag = False,
) -> None:
    """Import the year's revised action plan."""
    year_option(year)
    eng = engine()
    require_schema(eng)
    clock = SystemClock()
    rows: list[dict] = []
    warnings: list[dict] = []
    with session_factory(eng)() as session:
        try:
            target = resolve_agreement(session, agreement)
            # The check below reads the plan that another load may be writing: wait for it.
            lock_agreement(session, target.key)
            session.refresh(target)
            agreement_key = target.key
            checked = _checked(session, target, file, year, clock, keep_unreadable)
            chosen_year, rows, warnings = checked.year, checked.as_json(), checked.warnings_json()
            result = import_plan(session, checked, clock=clock, actor=actor(), allow_withdraw=allow_withdraw)
            # A dry run goes all the way, so that it shows the real changes, then undoes them.
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except UnknownAgreement as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(EXIT_STATE) from None
        except ArchivedAgreement as exc:
            refuse_archived(exc)  # closing the session rolls back
        except InputError as exc:
            session.rollback()
            if as_json:
                errors = [p.as_json() for p in exc.problems]
                print_json(
                    {"activities": rows, "errors": errors, "warnings": warnings, "changes": _changes(exc)}
                )
            else:
                report_problems(exc, as_json=False)
            raise typer.Exit(EXIT_INPUT) from None
    changes = _changes(result)
    if as_json:
        print_json(
            _as_json(agreement_key, chosen_year, dry_run, result.plan_revision, rows, changes, warnings)
        )
        return
    _print_plan(rows, changes, chosen_year, dry_run)
    _print_warnings(checked, warnings)


def _checked(session, target, file: Path, year: int | None, clock, keep_unreadable: bool):
    """The plan file read and checked: for `year` when given, else its heading's or this year."""
    chosen = year if year is not None else default_year(target, clock)
    return read_plan_import(
        session, target, file, chosen, year_given=year is not None, keep_unreadable=keep_unreadable
    )


def _print_warnings(checked, warnings: list[dict]) -> None:
    """Each warning with its place, on stderr; a row kept without timing says so."""
    untimed = {plan.key for plan, _, _ in checked.rows if plan.timing is None}
    for problem, warning in zip(checked.warnings, warnings, strict=True):
        if warning["id"] not in untimed:
            err.print(f"[yellow]{problem}[/]", highlight=False, soft_wrap=True)
            continue
        err.print(
            _(
                "[yellow]warning:[/] %(file)s:%(line)s: %(field)s: %(reason)s (%(id)s is kept without "
                "timing: no reminders until it has one)",
                file=warning["file"],
                line=warning["line"],
                field=warning["field"],
                reason=warning["message"],
                id=warning["id"],
            ),
            highlight=False,
            soft_wrap=True,
        )


def _as_json(
    key: str, year: int, dry_run: bool, revision, rows: list[dict], changes: list[dict], warnings: list[dict]
) -> dict:
    return {
        "agreement": key,
        "year": year,
        "dry_run": dry_run,
        "plan_revision": revision,
        "activities": rows,
        "errors": [],
        "warnings": warnings,
        "changes": changes,
    }


def _print_plan(rows: list[dict], changes: list[dict[str, str]], year: int, dry_run: bool) -> None:
    table = Table(title=_("Action plan %(year)s", year=year), expand=True)
    for column in (
        _("Line"),
        "Id",
        _("Activity"),
        _("Responsible"),
        _("Due"),
    ):
        table.add_column(column)
    for row in rows:
        owners = ", ".join(row["owners"]) + (" + " + ", ".join(row["partners"]) if row["partners"] else "")
        due = row["deadline"] or ("—" if row["timing"] is not None else _("needs a timing"))
        table.add_row(str(row["line"]), row["id"], row["activity"], owners, due)
    console.print(table)
    verb = _("would change") if dry_run else _("changed")
    console.print(
        _("%(n)s activities; %(verb)s %(changes)s:", n=len(rows), verb=verb, changes=len(changes)),
        highlight=False,
    )
    for change in changes:
        console.print(f"  {change['action']:8} {change['entity']:15} {change['key']}", highlight=False)


def _changes(outcome: object) -> list[dict[str, str]]:
    """What an import changed, or would have changed before it was refused (WithdrawalRefused)."""
    return [{"action": a, "entity": e, "key": k} for a, e, k in getattr(outcome, "changes", [])]
