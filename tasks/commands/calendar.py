"""`trygg calendar`: every dated event in a period, on screen, as JSON, or as an iCalendar file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from babel.dates import format_date, format_datetime
from rich.table import Table

from tasks.commands.common import (
    AgreementOpt,
    JsonFlag,
    agreement_transaction,
    console,
    day_option,
    period_of,
    print_json,
    warn_if_far,
    write_output,
)
from workflow.calendar.events import calendar_events
from workflow.calendar.ics import to_ics
from workflow.clock import SystemClock
from workflow.i18n import _, _l, _pl, current_language

KINDS = {
    "council": _pl("calendar", "council meeting"),
    "check_in": _pl("calendar", "check-in"),
    "yearly_review": _pl("calendar", "yearly review"),
    "evaluation": _pl("calendar", "evaluation"),
    "step": _pl("calendar", "cycle step"),
    "deadline": _pl("calendar", "deadline"),
    "follow_up": _pl("calendar", "follow-up"),
    "event_follow_up": _pl("calendar", "follow-up"),
}


def calendar(
    start: Annotated[str, typer.Option("--from", help=_l("the first day, YYYY-MM-DD"))],
    end: Annotated[str, typer.Option("--to", help=_l("the last day, YYYY-MM-DD"))],
    ics: Annotated[Path | None, typer.Option("--ics", help=_l("also write an iCalendar file"))] = None,
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Every dated event in a period: deadlines, follow-ups, meetings, review, evaluation."""
    first, last = day_option(start, "--from"), day_option(end, "--to")
    if last < first:
        raise typer.BadParameter(
            _("--to (%(last)s) is before --from (%(first)s)", last=last, first=first), param_hint="--to"
        )
    with agreement_transaction(agreement) as (session, agr, _sync):
        warn_if_far("--from/--to", f"{first}–{last}", (first, last), period_of(agr))
        events = calendar_events(session, agr, first, last)
        tz, name = agr.timezone, agr.title
    if ics is not None:
        write_output(ics, to_ics(events, name=name, tz=tz, stamp=SystemClock().now()), "--ics")
    if as_json:
        print_json({"events": [e.as_json(tz) for e in events], "ics": str(ics) if ics else None})
        return
    locale = "en" if current_language() == "en" else "sv_SE"
    table = Table(title=f"{name}: {first} – {last}", expand=True)
    for column in (_("Date"), _("Time"), _("Kind"), _("Event")):
        table.add_column(column)
    for ev in events:
        when = "" if ev.all_day else format_datetime(ev.start, "HH:mm", tzinfo=tz, locale=locale)
        summary = ev.summary + (_(" (cancelled)") if ev.cancelled else "")
        table.add_row(format_date(ev.day, "EEE d MMM y", locale=locale), when, str(KINDS[ev.kind]), summary)
    console.print(table)
    console.print(_("%(n_events)s events", n_events=len(events)) + (f"; {ics}" if ics else ""))
