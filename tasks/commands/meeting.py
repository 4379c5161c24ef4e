"""Meetings: `trygg meeting list|show|add|agenda-item|coopt|reschedule|cancel|minutes`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from babel.dates import format_datetime
from rich.table import Table
from sqlalchemy import select

from tasks.commands.common import AgreementOpt, JsonFlag, agreement_transaction, console, print_json, t
from workflow.meetings import actions
from workflow.meetings.agenda import agenda
from workflow.meetings.models import Meeting, MeetingKind

app = typer.Typer(help="Möten: råd, avstämningar, översyn, utvärdering / meetings", no_args_is_help=True)
agenda_app = typer.Typer(help="Dagordningen / the agenda", no_args_is_help=True)
app.add_typer(agenda_app, name="agenda-item")

MeetingArg = Annotated[str, typer.Argument(help="mötets id (se `trygg meeting list`)")]
STATUS_SV = {"planned": "planerat", "held": "hållet", "closed": "avslutat", "cancelled": "inställt"}


def _when(value: str, tz: str, option: str) -> datetime:
    """ÅÅÅÅ-MM-DDTHH:MM in the agreement's zone, or with an explicit offset."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"ogiltig tid {value!r} (skriv ÅÅÅÅ-MM-DDTHH:MM)", param_hint=option
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


def _describe(session, agr, m: Meeting) -> dict:
    return {
        "id": m.key,
        "kind": m.kind,
        "year": m.year,
        "title": m.title,
        "starts_at": m.starts_at.astimezone(ZoneInfo(agr.timezone)).isoformat(),
        "ends_at": m.ends_at.astimezone(ZoneInfo(agr.timezone)).isoformat(),
        "location": m.location,
        "status": m.status,
        "sequence": m.sequence,
        "next_action_at": m.next_action_at.astimezone(ZoneInfo(agr.timezone)).isoformat()
        if m.next_action_at
        else None,
        "agenda": agenda(session, agr, m),
        "invitees": [
            {
                "id": i.person.key,
                "name": i.person.name,
                "co_opted": i.co_opted,
                "guest": i.person.is_guest,
                "attended": i.attended,
            }
            for i in m.invitees
        ],
        "minutes": [
            {"revision": r.revision, "recorded_at": r.recorded_at.isoformat(), "recorded_by": r.recorded_by}
            for r in m.minutes
        ],
    }


@app.command("list")
def list_meetings(
    year: Annotated[int | None, typer.Option("--year")] = None,
    kind: Annotated[MeetingKind | None, typer.Option("--kind")] = None,
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Alla möten / every meeting."""
    with agreement_transaction(agreement) as (session, agr, _):
        query = select(Meeting).where(Meeting.agreement_id == agr.id).order_by(Meeting.starts_at)
        if year is not None:
            query = query.where(Meeting.year == year)
        if kind is not None:
            query = query.where(Meeting.kind == kind)
        meetings = session.scalars(query).all()
        rows = [
            {
                "id": m.key,
                "kind": m.kind,
                "title": m.title,
                "status": m.status,
                "starts_at": m.starts_at,
                "invitees": len(m.invitees),
            }
            for m in meetings
        ]
        tz = agr.timezone
    if as_json:
        print_json(
            {
                "meetings": [
                    {**r, "starts_at": r["starts_at"].astimezone(ZoneInfo(tz)).isoformat()} for r in rows
                ]
            }
        )
        return
    table = Table(expand=True)
    for column in (
        "Id",
        t("Tid", "Time"),
        t("Möte", "Meeting"),
        t("Läge", "Status"),
        t("Kallade", "Invited"),
    ):
        table.add_column(column)
    for r in rows:
        when = format_datetime(r["starts_at"], "EEE d MMM y HH:mm", tzinfo=ZoneInfo(tz), locale="sv_SE")
        table.add_row(r["id"], when, r["title"], t(STATUS_SV[r["status"]], r["status"]), str(r["invitees"]))
    console.print(table)


@app.command("show")
def show(meeting: MeetingArg, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """Ett möte med dagordning, kallade och anteckningar / one meeting in full."""
    with agreement_transaction(agreement) as (session, agr, _):
        data = _describe(session, agr, actions.find_meeting(session, agr, meeting))
    if as_json:
        print_json(data)
        return
    console.rule(f"[bold]{data['title']}[/] ({data['id']}, {t(STATUS_SV[data['status']], data['status'])})")
    console.print(f"{data['starts_at']} – {data['ends_at']}  {data['location'] or ''}", highlight=False)
    console.print(t("[bold]Dagordning[/]", "[bold]Agenda[/]"))
    for n, item in enumerate(data["agenda"], start=1):
        console.print(f"  {n}. {item}", highlight=False)
    console.print(t("[bold]Kallade[/]", "[bold]Invited[/]"))
    for i in data["invitees"]:
        extra = t(" (adjungerad)", " (co-opted)") if i["co_opted"] else ""
        present = {True: t(" – närvarande", " – present"), False: t(" – frånvarande", " – absent"), None: ""}[
            i["attended"]
        ]
        console.print(f"  {i['name']}{extra}{present}", highlight=False)


@app.command("add")
def add(
    title: Annotated[str, typer.Option("--title")],
    start: Annotated[str, typer.Option("--start", help="ÅÅÅÅ-MM-DDTHH:MM (lokal tid)")],
    minutes: Annotated[int, typer.Option("--minutes", help="längd i minuter")] = 120,
    location: Annotated[str | None, typer.Option("--location")] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Ett extra rådsmöte; rådets ledamöter, sekreteraren och samordnaren kallas / an ad hoc meeting."""
    with agreement_transaction(agreement) as (session, agr, sync):
        begins = _when(start, agr.timezone, "--start")
        council = [
            p
            for p in agr.people
            if p.active and {"council_member", "council_secretary", "coordinator"} & set(p.role_names)
        ]
        m = actions.add_meeting(
            session,
            sync,
            agr,
            title=title,
            starts_at=begins,
            ends_at=begins + timedelta(minutes=minutes),
            location=location,
            invite=council,
        )
        console.print(t(f"Mötet {m.key} är inlagt.", f"Meeting {m.key} added."))


@agenda_app.command("add")
def agenda_add(
    meeting: MeetingArg,
    title: Annotated[str, typer.Argument(help="punktens rubrik")],
    by: Annotated[str | None, typer.Option("--by", help="vem som föreslår punkten (person-id)")] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Föreslå en punkt på dagordningen / propose an agenda item."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        person = actions.find_person(session, agr, by) if by else None
        actions.add_agenda_item(session, sync, m, title, person)
        console.print(t(f"Punkten är tillagd på {m.key}.", f"Item added to {m.key}."))


@app.command("coopt")
def coopt(
    meeting: MeetingArg,
    person: Annotated[str | None, typer.Argument(help="person-id (eller --name/--email för en gäst)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="gästens namn / a guest's name")] = None,
    email: Annotated[str | None, typer.Option("--email", help="gästens e-post")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="organisationens id, t.ex. foreningar")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="gästens titel")] = None,
    language: Annotated[str, typer.Option("--language", help="sv eller en: språket i gästens mejl")] = "sv",
    agreement: AgreementOpt = None,
) -> None:
    """Adjungera någon till ett enskilt möte / co-opt someone to one meeting.

    En känd person anges med id; en gäst utanför överenskommelsen med --name, --email och
    --organisation (gästen finns kvar när filen läses in igen).
    """
    if (person is None) == (name is None):
        raise typer.BadParameter("ange ett person-id eller --name (inte båda)", param_hint="PERSON")
    if name is not None and (not email or not organisation):
        raise typer.BadParameter("en gäst behöver --email och --organisation", param_hint="--name")
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        if person is not None:
            p = actions.find_person(session, agr, person)
        else:
            p = actions.add_guest(
                session,
                sync,
                agr,
                name=name,
                email=email,
                organisation=organisation,
                language=language,
                title=title,
            )
        actions.coopt(session, sync, m, p)
        console.print(
            t(f"{p.name} ({p.key}) är adjungerad till {m.key}.", f"{p.name} ({p.key}) co-opted to {m.key}."),
            highlight=False,
        )


@app.command("reschedule")
def reschedule(
    meeting: MeetingArg,
    start: Annotated[str, typer.Option("--start", help="ny tid ÅÅÅÅ-MM-DDTHH:MM")],
    minutes: Annotated[int | None, typer.Option("--minutes")] = None,
    location: Annotated[str | None, typer.Option("--location")] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Flytta ett möte / move a meeting (the invited get an update)."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        begins = _when(start, agr.timezone, "--start")
        actions.reschedule(
            session, sync, m, begins, begins + timedelta(minutes=minutes) if minutes else None, location
        )
        console.print(
            t(f"{m.key} är flyttat (version {m.sequence}).", f"{m.key} moved (sequence {m.sequence}).")
        )


@app.command("cancel")
def cancel(
    meeting: MeetingArg, reason: Annotated[str, typer.Option("--reason")], agreement: AgreementOpt = None
) -> None:
    """Ställ in ett möte / cancel a meeting."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        actions.cancel(session, sync, m, reason)
        console.print(t(f"{m.key} är inställt.", f"{m.key} is cancelled."))


@app.command("minutes")
def minutes_command(
    meeting: MeetingArg,
    file: Annotated[
        Path, typer.Argument(help="mötesanteckningarna (text eller Markdown)", exists=True, dir_okay=False)
    ],
    attended: Annotated[str, typer.Option("--attended", help="närvarande, person-id med komma emellan")],
    agreement: AgreementOpt = None,
) -> None:
    """Registrera mötesanteckningar och närvaro; ett nytt varv blir en ny version / record minutes."""
    text = file.read_text(encoding="utf-8")
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        present = [
            actions.find_person(session, agr, key.strip()) for key in attended.split(",") if key.strip()
        ]
        revision = actions.record_minutes(session, sync, m, text, present, sync.clock.now())
        console.print(
            t(
                f"Anteckningar för {m.key} registrerade (version {revision.revision}).",
                f"Minutes of {m.key} recorded (revision {revision.revision}).",
            )
        )
