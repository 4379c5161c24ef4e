"""Agreements: check, load, status, and the shipped examples."""

from __future__ import annotations

import typer
from rich.table import Table

from tasks.commands.common import (
    EXIT_STATE,
    AgreementOpt,
    FileArg,
    JsonFlag,
    actor,
    console,
    engine,
    err,
    print_json,
    read_or_exit,
    require_schema,
)
from tasks.commands.engine import show_engine
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.i18n import _, _pl
from workflow.loading import load_agreement
from workflow.resources import shipped_agreements
from workflow.status import UnknownAgreement, engine_status, status


def check(file: FileArg, as_json: JsonFlag = False) -> None:
    """Validate an agreement file, write nothing."""
    af = read_or_exit(file, as_json)
    summary = {
        "ok": True,
        "agreement": af.spec.id,
        "areas": len(af.spec.plan.areas),
        "activities": len(af.activities),
        "people": len(af.spec.people),
        "organisations": len(af.spec.organisations),
        "errors": [],
        "warnings": [w.as_json() for w in af.warnings],
    }
    if as_json:
        print_json(summary)
        return
    show_warnings(af)
    console.print(
        _(
            "[green]OK[/] %(file)s: %(id)s — %(areas)s priority areas, %(activities)s activities, %(people)s people.",
            file=file,
            id=af.spec.id,
            areas=summary["areas"],
            activities=summary["activities"],
            people=summary["people"],
        ),
        highlight=False,
    )


def load(file: FileArg, as_json: JsonFlag = False) -> None:
    """Load (or update) an agreement in one transaction."""
    af = read_or_exit(file, as_json)
    eng = engine()
    require_schema(eng)
    with transaction(session_factory(eng)) as session:
        result = load_agreement(session, af, clock=SystemClock(), actor=actor())
    if as_json:
        print_json(
            {
                "agreement": result.agreement_key,
                "created": result.created,
                "plan_revision": result.plan_revision,
                "changes": [{"action": a, "entity": e, "key": k} for a, e, k in result.changes],
                "warnings": [w.as_json() for w in af.warnings],
            }
        )
        return
    show_warnings(af)
    if result.created:
        console.print(_("Loaded: %(agreement_key)s", agreement_key=result.agreement_key))
    elif result.changed:
        console.print(
            _(
                "Updated: %(agreement_key)s (%(n_changes)s changes, see the audit log)",
                agreement_key=result.agreement_key,
                n_changes=len(result.changes),
            )
        )
        for action, entity, key in result.changes:
            console.print(f"  {action:8} {entity:20} {key}", highlight=False)
    else:
        console.print(_("Unchanged: %(agreement_key)s", agreement_key=result.agreement_key))


def show_warnings(af) -> None:
    for warning in af.warnings:
        err.print("[yellow]" + _("warning:") + f"[/] {warning}", highlight=False, soft_wrap=True)


STATES = {
    "open": _pl("activity", "not started"),
    "in_progress": _pl("activity", "in progress"),
    "done": _pl("activity", "done"),
    "cancelled": _pl("activity", "cancelled"),
    "withdrawn": _pl("activity", "withdrawn"),
}


def status_command(agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Status per priority area, and the engine's health."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            data = status(session, agreement)
            data["engine"] = engine_status(session, SystemClock().now())
    except UnknownAgreement as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_STATE) from None
    if as_json:
        print_json(data)
        return
    if not data["agreements"]:
        console.print(_("No agreement is loaded."))
    for agr in data["agreements"]:
        total = sum(len(a["activities"]) for a in agr["areas"])
        console.rule(f"[bold]{agr['title']}[/] ({agr['id']})")
        console.print(
            _(
                "Period %(start)s – %(end)s: %(n_areas)s priority areas, %(total)s activities",
                start=agr["period"]["start"],
                end=agr["period"]["end"],
                n_areas=len(agr["areas"]),
                total=total,
            )
        )
        for area in agr["areas"]:
            table = Table(title=f"{area['title']}", title_justify="left", expand=True)
            table.add_column(_("Activity"), ratio=4)
            table.add_column(_("Responsible"), ratio=3)
            table.add_column(_("When"), ratio=2)
            table.add_column(_("Deadline"), no_wrap=True)
            table.add_column(_("State"), no_wrap=True)
            for act in area["activities"]:
                owners = ", ".join(o["name"] for o in act["owners"])
                if act["partners"]:
                    owners += _(" with ") + ", ".join(p["name"] for p in act["partners"])
                state = act["state"]
                table.add_row(
                    act["title"],
                    owners,
                    act["when"] or "",
                    (act["effective_deadline"] + _(" (extended)"))
                    if act["extended_deadline"]
                    else (act["deadline"] or "—"),
                    str(STATES.get(state, state)),
                )
            console.print(table)
    console.rule(_("[bold]The engine[/]"))
    show_engine(data["engine"])


def examples() -> None:
    """The example agreements shipped with trygg."""
    for name, path in shipped_agreements().items():
        console.print(f"{name}\t{path}", highlight=False, soft_wrap=True)
