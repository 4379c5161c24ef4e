"""Agreements: check, load, status, and the shipped examples."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from tasks.commands.common import (
    EXIT_INPUT,
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
    refuse_archived,
    require_schema,
)
from tasks.commands.engine import show_engine
from workflow.agreement.lifecycle import ArchivedAgreement
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.desk.standing import status_with_standing
from workflow.i18n import _, _l, _pl
from workflow.loading import WouldRevertWebEdits, load_agreement
from workflow.resources import shipped_agreements
from workflow.status import UnknownAgreement, engine_status


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


ForceFlag = Annotated[
    bool,
    typer.Option(
        "--force", help=_l("load even if the file reverts edits made on the web since the last load")
    ),
]


def load(file: FileArg, force: ForceFlag = False, as_json: JsonFlag = False) -> None:
    """Load (or update) an agreement in one transaction."""
    af = read_or_exit(file, as_json)
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            result = load_agreement(session, af, clock=SystemClock(), actor=actor(), force=force)
    except ArchivedAgreement as exc:
        refuse_archived(exc)
    except WouldRevertWebEdits as exc:
        refuse_revert(exc, as_json)
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


def refuse_revert(exc: WouldRevertWebEdits, as_json: bool) -> NoReturn:
    """Name the web's edits the file would undo; nothing was written (exit 2)."""
    edits = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "key": e.key,
            "fields": list(e.fields),
        }
        for e in exc.edits
    ]
    if as_json:
        print_json({"ok": False, "reverts_web_edits": edits})
        raise typer.Exit(EXIT_INPUT)
    err.print(
        _(
            "[red]The file would revert %(n)s edits made on the web since the last load:[/]",
            n=len(edits),
        ),
        highlight=False,
    )
    for e in edits:
        err.print(
            f"  {e['at'][:16]}  {e['actor']:12} {e['action']:8} {e['entity']:20} {e['key']}  {', '.join(e['fields'])}",
            highlight=False,
            soft_wrap=True,
        )
    err.print(
        _(
            "Nothing was written. Export the agreement (`trygg export`) and edit that file, "
            "or load with --force to overwrite the web's edits."
        ),
        highlight=False,
    )
    raise typer.Exit(EXIT_INPUT)


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
# From this many columns on, `trygg status` shows who is responsible too.
WIDE = 110
# Who the overdue ladder told, or tells next.
LADDER = {
    "owner": _pl("ladder", "the owners"),
    "coordinator": _pl("ladder", "the coordinator"),
    "management": _pl("ladder", "management"),
}


def status_command(agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Status per priority area, and the engine's health."""
    eng = engine()
    require_schema(eng)
    now = SystemClock().now()
    try:
        with transaction(session_factory(eng)) as session:
            data = status_with_standing(session, agreement, now)
            data["engine"] = engine_status(session, now)
    except UnknownAgreement as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_STATE) from None
    if as_json:
        print_json(data)
        return
    if not data["agreements"]:
        console.print(_("No agreement is loaded."))
    for agr in data["agreements"]:
        show_agreement(agr)
    console.rule(_("[bold]The engine[/]"))
    show_engine(data["engine"])


def show_agreement(agr: dict[str, Any]) -> None:
    """One agreement's activities per area: the id the commands take, and how each stands."""
    total = sum(len(a["activities"]) for a in agr["areas"])
    console.rule(f"[bold]{agr['id']}[/]")  # the id alone: a rule cuts what does not fit
    console.print(agr["title"], highlight=False)
    console.print(
        _(
            "Period %(start)s – %(end)s: %(n_areas)s priority areas, %(total)s activities",
            start=agr["period"]["start"],
            end=agr["period"]["end"],
            n_areas=len(agr["areas"]),
            total=total,
        )
    )
    if agr["archived_at"]:
        console.print(_("[yellow]Archived %(day)s: read-only.[/]", day=agr["archived_at"][:10]))
    elif agr["ended"]:
        console.print(
            _(
                "[yellow]Ended %(day)s (period and grace): nothing is sent for it. "
                "Renew it (`trygg agreement renew`) or archive it.[/]",
                day=agr["ends_on"],
            )
        )
    for area in agr["areas"]:
        table = Table(title=f"{area['title']}", title_justify="left", expand=True)
        # Ids are what the other commands take: folded onto a second line, never cut.
        widest = max((len(act["id"]) for act in area["activities"]), default=2)
        table.add_column(_("Id"), overflow="fold", no_wrap=widest <= console.width // 4)
        table.add_column(_("Activity"), ratio=4)
        wide = console.width >= WIDE  # a narrow terminal leaves out who is responsible (see --json)
        if wide:
            table.add_column(_("Responsible"), ratio=3)
        table.add_column(_("Deadline"), no_wrap=True)
        table.add_column(_("Status"), min_width=20, max_width=24)
        for act in area["activities"]:
            who = [_responsible(act)] if wide else []
            table.add_row(act["id"], act["title"], *who, _deadline(act), _standing_text(act))
        console.print(table)


def _responsible(act: dict[str, Any]) -> str:
    owners = ", ".join(o["name"] for o in act["owners"])
    if act["partners"]:
        owners += _(" with ") + ", ".join(p["name"] for p in act["partners"])
    return owners


def _deadline(act: dict[str, Any]) -> str:
    if act["extended_deadline"]:
        return act["effective_deadline"] + _(" (extended)")
    return act["deadline"] or "—"


def _standing_text(act: dict[str, Any]) -> str:
    """The state, and for an overdue activity: since when, the ladder's stage and its next step."""
    lines = [str(STATES.get(act["state"], act["state"]))]
    if act.get("status") == "untimed":
        lines.append(_("[yellow]needs a timing[/] (no reminders)"))
    if act.get("status") == "overdue":
        lines = [_("[red]overdue[/] since %(day)s", day=act["overdue_since"])]
        if act["stage"]:
            lines.append(
                _("told: %(to)s (%(day)s)", to=LADDER[act["stage"]["to"]], day=act["stage"]["at"][:10])
            )
        if act["acknowledged_at"]:
            lines.append(_("acknowledged %(day)s", day=act["acknowledged_at"][:10]))
        if act["next_step"]:
            step = act["next_step"]
            lines.append(_("next: %(to)s %(day)s", to=LADDER[step["to"]], day=step["at"][:10]))
    if act.get("pending_extension"):
        lines.append(_("asks for %(day)s", day=act["pending_extension"]["requested_deadline"]))
    return "\n".join(lines)


def examples() -> None:
    """The example agreements shipped with trygg."""
    for name, path in shipped_agreements().items():
        console.print(f"{name}\t{path}", highlight=False, soft_wrap=True)
