"""`trygg calendar`: every dated event in a period, on screen, as JSON, or as an iCalendar file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from babel.dates import format_date, format_datetime
from rich.table import Table

from tasks.commands.common import AgreementOpt, JsonFlag, agreement_transaction, console, print_json, t
from workflow.calendar.events import calendar_events
from workflow.calendar.ics import to_ics
from workflow.clock import SystemClock
from workflow.settings import get_settings

KIND_SV = {
    "council": "rådsmöte",
    "check_in": "avstämning",
    "yearly_review": "översyn",
    "evaluation": "utvärdering",
    "step": "cykelsteg",
    "deadline": "deadline",
    "follow_up": "uppföljning",
    "event_follow_up": "uppföljning",
}


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"ogiltigt datum {value!r} (skriv ÅÅÅÅ-MM-DD)", param_hint=option) from None


def calendar(
    start: Annotated[str, typer.Option("--from", help="första dag, ÅÅÅÅ-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="sista dag, ÅÅÅÅ-MM-DD")],
    ics: Annotated[Path | None, typer.Option("--ics", help="skriv också en iCalendar-fil")] = None,
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Kalendern: deadlines, uppföljningar, rådsmöten, avstämningar, översyn, utvärdering."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter(f"--to ({last}) är före --from ({first})", param_hint="--to")
    with agreement_transaction(agreement) as (session, agr, _):
        events = calendar_events(session, agr, first, last)
        tz, name = agr.timezone, agr.title
    if ics is not None:
        ics.write_bytes(to_ics(events, name=name, tz=tz, stamp=SystemClock().now()))
    if as_json:
        print_json({"events": [e.as_json(tz) for e in events], "ics": str(ics) if ics else None})
        return
    locale = "en" if get_settings().language == "en" else "sv_SE"
    table = Table(title=f"{name}: {first} – {last}", expand=True)
    for column in (t("Datum", "Date"), t("Tid", "Time"), t("Slag", "Kind"), t("Händelse", "Event")):
        table.add_column(column)
    for ev in events:
        when = "" if ev.all_day else format_datetime(ev.start, "HH:mm", tzinfo=tz, locale=locale)
        summary = ev.summary + (t(" (inställt)", " (cancelled)") if ev.cancelled else "")
        table.add_row(
            format_date(ev.day, "EEE d MMM y", locale=locale), when, t(KIND_SV[ev.kind], ev.kind), summary
        )
    console.print(table)
    console.print(t(f"{len(events)} händelser", f"{len(events)} events") + (f"; {ics}" if ics else ""))
