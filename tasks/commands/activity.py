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
    day_option,
    engine,
    err,
    period_of,
    print_json,
    refuse_archived,
    require_schema,
    warn_if_far,
)
from workflow import work
from workflow.agreement.lifecycle import ArchivedAgreement, guard
from workflow.audit import UnitOfWork
from workflow.clock import SystemClock
from workflow.db import session_factory, transaction
from workflow.i18n import _, _l
from workflow.plan.models import Activity
from workflow.status import UnknownAgreement, resolve_agreement

app = typer.Typer(help=_l("Acting on an activity"), no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help=_l("the activity's id (see `trygg status`)"))]
NoteOpt = Annotated[str | None, typer.Option("--note", help=_l("a note"))]


def _act(
    agreement: str | None,
    key: str,
    as_json: bool,
    action: Callable[..., work.Acted],
    day: tuple[str, date] | None = None,
) -> None:
    """Find the activity, act in one transaction (with its audit entry), report the result.
    `day`: the option that named a day, and the day, for a warning far outside the period."""
    eng = engine()
    require_schema(eng)
    try:
        with transaction(session_factory(eng)) as session:
            target = resolve_agreement(session, agreement)
            if day is not None:
                warn_if_far(day[0], day[1], (day[1], day[1]), period_of(target))
            activity: Activity = work.find_activity(session, target, key)
            acted = action(guard(UnitOfWork(session, SystemClock(), actor()), target), activity)
    except ArchivedAgreement as exc:
        refuse_archived(exc)
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
    console.print(f"{acted.activity}: {acted.message}", highlight=False)
    if acted.cancelled_notices:
        console.print(
            _(
                "%(cancelled_notices)s pending reminders or escalations were cancelled.",
                cancelled_notices=acted.cancelled_notices,
            )
        )


@app.command("done", help=_l("Mark done: reminders and escalations stop."))
def done(key: IdArg, note: NoteOpt = None, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Mark done: reminders stop."""
    _act(agreement, key, as_json, lambda unit, a: work.mark_done(unit, a, note=note))


@app.command("progress", help=_l("Report progress: answers the follow-up that waits."))
def progress(
    key: IdArg,
    note: Annotated[str, typer.Option("--note", help=_l("the progress report"))],
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Report progress (answers the follow-up)."""
    _act(agreement, key, as_json, lambda unit, a: work.report_progress(unit, a, note=note))


@app.command("extend", help=_l("Extend (approved): a new deadline and a reason; the escalation stops."))
def extend(
    key: IdArg,
    to: Annotated[str, typer.Option("--to", help=_l("the new deadline, YYYY-MM-DD"))],
    reason: Annotated[str, typer.Option("--reason", help=_l("the reason for the extension"))],
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """An approved extension."""
    new_deadline = day_option(to, "--to")
    _act(
        agreement,
        key,
        as_json,
        lambda unit, a: work.extend(unit, a, new_deadline=new_deadline, reason=reason),
        day=("--to", new_deadline),
    )


@app.command("ack", help=_l("Acknowledge the delay: the escalation stops."))
def ack(key: IdArg, note: NoteOpt = None, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Acknowledge the delay: escalation stops."""
    _act(agreement, key, as_json, lambda unit, a: work.acknowledge(unit, a, note=note))


@app.command("trigger", help=_l("The event of an event-driven duty has happened ('vid remissförfarande')."))
def trigger(
    activity: IdArg,
    note: Annotated[
        str, typer.Option("--note", help=_l("what happened, e.g. 'Remiss: detaljplan Nattviken'"))
    ],
    on: Annotated[
        str | None, typer.Option("--on", help=_l("the day it happened, YYYY-MM-DD (default: today)"))
    ] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Record the event of an event-driven duty."""
    given = None if on is None else day_option(on, "--on")
    with agreement_transaction(agreement) as (session, agr, sync):
        if given is None:
            happened = sync.clock.now().astimezone(ZoneInfo(agr.timezone)).date()
        else:
            happened = given
            warn_if_far("--on", happened, (happened, happened), period_of(agr))
        event = work.trigger(sync, agr, activity, happened, note)
        console.print(
            _(
                "Recorded for %(activity)s: follow-up due %(due_on)s.",
                activity=activity,
                due_on=event.due_on.isoformat(),
            )
        )
