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
    t,
)
from tasks.commands.engine import show_engine
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.loading import load_agreement
from workflow.resources import shipped_agreements
from workflow.status import UnknownAgreement, engine_status, status


def check(file: FileArg, as_json: JsonFlag = False) -> None:
    """Validera en överenskommelse utan att skriva något / validate, write nothing."""
    af = read_or_exit(file, as_json)
    summary = {
        "ok": True,
        "agreement": af.spec.id,
        "areas": len(af.spec.plan.areas),
        "activities": len(af.activities),
        "people": len(af.spec.people),
        "organisations": len(af.spec.organisations),
        "errors": [],
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        t(
            f"[green]OK[/] {file}: {af.spec.id} — {summary['areas']} prioriterade områden, "
            f"{summary['activities']} aktiviteter, {summary['people']} personer.",
            f"[green]OK[/] {file}: {af.spec.id} — {summary['areas']} priority areas, "
            f"{summary['activities']} activities, {summary['people']} people.",
        ),
        highlight=False,
    )


def load(file: FileArg, as_json: JsonFlag = False) -> None:
    """Läs in (eller uppdatera) en överenskommelse i en transaktion / load or update, atomically."""
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
            }
        )
        return
    if result.created:
        console.print(t(f"Inläst: {result.agreement_key}", f"Loaded: {result.agreement_key}"))
    elif result.changed:
        console.print(
            t(
                f"Uppdaterad: {result.agreement_key} ({len(result.changes)} ändringar, se granskningsloggen)",
                f"Updated: {result.agreement_key} ({len(result.changes)} changes, see the audit log)",
            )
        )
        for action, entity, key in result.changes:
            console.print(f"  {action:8} {entity:20} {key}", highlight=False)
    else:
        console.print(t(f"Oförändrad: {result.agreement_key}", f"Unchanged: {result.agreement_key}"))


STATE_SV = {
    "open": "ej påbörjad",
    "in_progress": "pågår",
    "done": "klar",
    "cancelled": "avbruten",
    "withdrawn": "utgått",
}


def status_command(agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Läget per prioriterat område och motorns hälsa / status per priority area, and the engine's health."""
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
        console.print(t("Ingen överenskommelse är inläst.", "No agreement is loaded."))
    for agr in data["agreements"]:
        total = sum(len(a["activities"]) for a in agr["areas"])
        console.rule(f"[bold]{agr['title']}[/] ({agr['id']})")
        console.print(
            t(
                f"Period {agr['period']['start']} – {agr['period']['end']}: "
                f"{len(agr['areas'])} prioriterade områden, {total} aktiviteter",
                f"Period {agr['period']['start']} – {agr['period']['end']}: "
                f"{len(agr['areas'])} priority areas, {total} activities",
            )
        )
        for area in agr["areas"]:
            table = Table(title=f"{area['title']}", title_justify="left", expand=True)
            table.add_column(t("Aktivitet", "Activity"), ratio=4)
            table.add_column(t("Ansvarig", "Responsible"), ratio=3)
            table.add_column(t("När", "When"), ratio=2)
            table.add_column(t("Deadline", "Deadline"), no_wrap=True)
            table.add_column(t("Läge", "State"), no_wrap=True)
            for act in area["activities"]:
                owners = ", ".join(o["name"] for o in act["owners"])
                if act["partners"]:
                    owners += t(" med ", " with ") + ", ".join(p["name"] for p in act["partners"])
                state = act["state"]
                table.add_row(
                    act["title"],
                    owners,
                    act["when"] or "",
                    (act["effective_deadline"] + t(" (förlängd)", " (extended)"))
                    if act["extended_deadline"]
                    else (act["deadline"] or "—"),
                    t(STATE_SV.get(state, state), state),
                )
            console.print(table)
    console.rule(t("[bold]Motorn[/]", "[bold]The engine[/]"))
    show_engine(data["engine"])


def examples() -> None:
    """Medföljande exempelöverenskommelser / the example agreements shipped with trygg."""
    for name, path in shipped_agreements().items():
        console.print(f"{name}\t{path}", highlight=False, soft_wrap=True)
