"""Acting on an activity: `trygg activity done|progress|extend|ack ID`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from tasks.commands.common import (
    EXIT_INPUT,
    EXIT_STATE,
    AgreementOpt,
    JsonFlag,
    actor,
    agreement_transaction,
    console,
    engine,
    err,
    print_json,
    require_schema,
    t,
)
from workflow import work
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.plan.models import Activity
from workflow.status import UnknownAgreement, resolve_agreement

app = typer.Typer(help="Arbetet med en aktivitet / acting on an activity", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="aktivitetens id (se `trygg status`) / the activity's id")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="en kommentar / a note")]


def _act(agreement: str | None, key: str, as_json: bool, action: Callable[..., work.Acted]) -> None:
    """Find the activity, act in one transaction (with its audit entry), report the result."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            target = resolve_agreement(session, agreement)
            activity: Activity = work.find_activity(session, target, key)
            acted = action(session, SystemClock(), activity)
    except (UnknownAgreement, work.UnknownActivity) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_STATE) from None
    except work.WorkError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    if as_json:
        print_json(
            {
                "activity": acted.activity,
                "action": acted.action,
                "changed": acted.changed,
                "cancelled_notices": acted.cancelled_notices,
            }
        )
        return
    console.print(f"{acted.activity}: {t(*acted.message)}", highlight=False)
    if acted.cancelled_notices:
        console.print(
            t(
                f"{acted.cancelled_notices} väntande påminnelser eller eskaleringar ställdes in.",
                f"{acted.cancelled_notices} pending reminders or escalations were cancelled.",
            )
        )


@app.command("done")
def done(key: IdArg, note: NoteOpt = None, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Markera som klar: påminnelser och eskaleringar upphör / mark done: reminders stop."""
    _act(agreement, key, as_json, lambda s, c, a: work.mark_done(s, c, a, actor=actor(), note=note))


@app.command("progress")
def progress(
    key: IdArg,
    note: Annotated[str, typer.Option("--note", help="lägesrapporten / the progress report")],
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Rapportera läget: besvarar uppföljningen som väntar / report progress (answers the follow-up)."""
    _act(agreement, key, as_json, lambda s, c, a: work.report_progress(s, c, a, actor=actor(), note=note))


@app.command("extend")
def extend(
    key: IdArg,
    to: Annotated[str, typer.Option("--to", help="ny sista dag, ÅÅÅÅ-MM-DD / the new deadline")],
    reason: Annotated[str, typer.Option("--reason", help="skälet till förlängningen / why")],
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Förläng (godkänt): ny sista dag och skäl; eskaleringen upphör / an approved extension."""
    try:
        new_deadline = date.fromisoformat(to)
    except ValueError:
        err.print(
            t(
                f"[red]--to: {to!r} är inte ett datum ÅÅÅÅ-MM-DD[/]",
                f"[red]--to: {to!r} is not a date YYYY-MM-DD[/]",
            )
        )
        raise typer.Exit(EXIT_INPUT) from None
    _act(
        agreement,
        key,
        as_json,
        lambda s, c, a: work.extend(s, c, a, actor=actor(), new_deadline=new_deadline, reason=reason),
    )


@app.command("ack")
def ack(key: IdArg, note: NoteOpt = None, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Kvittera förseningen: eskaleringen upphör / acknowledge the delay: escalation stops."""
    _act(agreement, key, as_json, lambda s, c, a: work.acknowledge(s, c, a, actor=actor(), note=note))


@app.command("trigger")
def trigger(
    activity: IdArg,
    note: Annotated[str, typer.Option("--note", help="vad som hände, t.ex. 'Remiss: detaljplan Nattviken'")],
    on: Annotated[
        str | None, typer.Option("--on", help="dagen det hände, ÅÅÅÅ-MM-DD (standard: i dag)")
    ] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Händelsen för en händelsestyrd plikt har inträffat ('vid remissförfarande') / record the event."""
    with agreement_transaction(agreement) as (session, agr, sync):
        if on is None:
            happened = sync.clock.now().astimezone(ZoneInfo(agr.timezone)).date()
        else:
            try:
                happened = date.fromisoformat(on)
            except ValueError:
                raise typer.BadParameter(
                    f"ogiltigt datum {on!r} (skriv ÅÅÅÅ-MM-DD)", param_hint="--on"
                ) from None
        event = work.trigger(session, sync, agr, activity, happened, note)
        console.print(
            t(
                f"Registrerat för {activity}: uppföljning senast {event.due_on.isoformat()}.",
                f"Recorded for {activity}: follow-up due {event.due_on.isoformat()}.",
            )
        )
