"""Meetings: `trygg meeting list|show|add|agenda-item add|move|remove|coopt|reschedule|cancel|minutes`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from babel.dates import format_datetime
from rich.table import Table
from sqlalchemy import select

from tasks.commands.common import (
    EXIT_INPUT,
    AgreementOpt,
    JsonFlag,
    agreement_transaction,
    console,
    err,
    instant_option,
    period_of,
    print_json,
    warn_if_far,
)
from workflow.agreement.models import Person
from workflow.i18n import _, _l, _pl, current_language
from workflow.meetings import actions
from workflow.meetings.agenda import agenda
from workflow.meetings.models import Meeting, MeetingKind

app = typer.Typer(help=_l("Meetings: council, check-ins, review, evaluation"), no_args_is_help=True)
agenda_app = typer.Typer(help=_l("The agenda"), no_args_is_help=True)
app.add_typer(agenda_app, name="agenda-item")

MeetingArg = Annotated[str, typer.Argument(help=_l("the meeting's id (see `trygg meeting list`)"))]
STATUSES = {
    "planned": _pl("meeting", "planned"),
    "held": _pl("meeting", "held"),
    "closed": _pl("meeting", "closed"),
    "cancelled": _pl("meeting", "cancelled"),
}


def _when(value: str, agr, option: str) -> datetime:
    """YYYY-MM-DDTHH:MM in the agreement's zone, or with an explicit offset; within the years
    trygg accepts, with a warning far outside the agreement's period."""
    begins = instant_option(value, option, agr.timezone)
    day = begins.astimezone(ZoneInfo(agr.timezone)).date()
    warn_if_far(option, value, (day, day), period_of(agr))
    return begins


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
        "proposed": [
            {
                "number": n,
                "title": item.title,
                "by": session.get(Person, item.proposed_by_id).key if item.proposed_by_id else None,
            }
            for n, item in enumerate(m.agenda, start=1)
        ],
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


@app.command("list", help=_l("Every meeting."))
def list_meetings(
    year: Annotated[int | None, typer.Option("--year")] = None,
    kind: Annotated[MeetingKind | None, typer.Option("--kind")] = None,
    agreement: AgreementOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Every meeting."""
    with agreement_transaction(agreement) as (session, agr, _sync):
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
    locale = "en" if current_language() == "en" else "sv_SE"
    table = Table(expand=True)
    # Ids are what the other meeting commands take: a narrow terminal folds them, never cuts them.
    widest = max((len(r["id"]) for r in rows), default=2)
    table.add_column("Id", overflow="fold", no_wrap=widest <= console.width // 3)
    for column in (_("Time"), _("Meeting"), _("Status"), _("Invited")):
        table.add_column(column, overflow="fold")
    for r in rows:
        when = format_datetime(r["starts_at"], "EEE d MMM y HH:mm", tzinfo=ZoneInfo(tz), locale=locale)
        table.add_row(r["id"], when, r["title"], str(STATUSES[r["status"]]), str(r["invitees"]))
    console.print(table)


@app.command("show", help=_l("One meeting with its agenda, the invited and the minutes."))
def show(meeting: MeetingArg, agreement: AgreementOpt = None, as_json: JsonFlag = False) -> None:
    """One meeting in full."""
    with agreement_transaction(agreement) as (session, agr, _sync):
        data = _describe(session, agr, actions.find_meeting(session, agr, meeting))
    if as_json:
        print_json(data)
        return
    console.rule(f"[bold]{data['title']}[/] ({data['id']}, {STATUSES[data['status']]})")
    console.print(f"{data['starts_at']} – {data['ends_at']}  {data['location'] or ''}", highlight=False)
    console.print(_("[bold]Agenda[/]"))
    for n, item in enumerate(data["agenda"], start=1):
        console.print(f"  {n}. {item}", highlight=False)
    if data["proposed"]:
        console.print(_("[bold]Proposed items[/] (numbers for `trygg meeting agenda-item move|remove`)"))
        for proposed in data["proposed"]:
            console.print(f"  {proposed['number']}. {proposed['title']}", highlight=False)
    console.print(_("[bold]Invited[/]"))
    for i in data["invitees"]:
        extra = _(" (co-opted)") if i["co_opted"] else ""
        present = {True: _(" – present"), False: _(" – absent"), None: ""}[i["attended"]]
        console.print(f"  {i['name']}{extra}{present}", highlight=False)


@app.command(
    "add",
    help=_l(
        "An extra council meeting; the council's members, the secretary and the coordinator are invited."
    ),
)
def add(
    title: Annotated[str, typer.Option("--title")],
    start: Annotated[str, typer.Option("--start", help=_l("YYYY-MM-DDTHH:MM (local time)"))],
    minutes: Annotated[int, typer.Option("--minutes", help=_l("length in minutes"))] = 120,
    location: Annotated[str | None, typer.Option("--location")] = None,
    agreement: AgreementOpt = None,
) -> None:
    """An ad hoc council meeting."""
    with agreement_transaction(agreement) as (session, agr, sync):
        begins = _when(start, agr, "--start")
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
        console.print(_("Meeting %(key)s added.", key=m.key))


@agenda_app.command("add", help=_l("Propose an item for the agenda."))
def agenda_add(
    meeting: MeetingArg,
    title: Annotated[str, typer.Argument(help=_l("the item's heading"))],
    by: Annotated[str | None, typer.Option("--by", help=_l("who proposes the item (person id)"))] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Propose an agenda item."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        person = actions.find_person(session, agr, by) if by else None
        actions.add_agenda_item(session, sync, m, title, person)
        console.print(_("Item added to %(key)s.", key=m.key))


ItemArg = Annotated[
    int, typer.Argument(help=_l("the proposed item's number (1 is the first; see `trygg meeting show`)"))
]


@agenda_app.command("move", help=_l("Move a proposed item to another place among the proposed items."))
def agenda_move(
    meeting: MeetingArg,
    item: ItemArg,
    to: Annotated[int, typer.Option("--to", help=_l("its new number among the proposed items"))],
    agreement: AgreementOpt = None,
) -> None:
    """Move a proposed agenda item."""
    with agreement_transaction(agreement) as (session, agr, sync):
        try:
            m = actions.find_meeting(session, agr, meeting)
            actions.place_agenda_item(session, sync, m, actions.find_agenda_item(m, item).id, to)
        except actions.MeetingError as exc:
            _refuse(exc)
        console.print(_("Item %(item)s of %(key)s is now number %(to)s.", item=item, key=m.key, to=to))


@agenda_app.command("remove", help=_l("Take a proposed item off the agenda."))
def agenda_remove(meeting: MeetingArg, item: ItemArg, agreement: AgreementOpt = None) -> None:
    """Remove a proposed agenda item."""
    with agreement_transaction(agreement) as (session, agr, sync):
        try:
            m = actions.find_meeting(session, agr, meeting)
            found = actions.find_agenda_item(m, item)
            title = found.title
            actions.remove_agenda_item(session, sync, m, found.id)
        except actions.MeetingError as exc:
            _refuse(exc)
        console.print(_("%(title)s is off the agenda of %(key)s.", title=title, key=m.key), highlight=False)


def _refuse(exc: actions.MeetingError) -> NoReturn:
    # A name the user typed that matches nothing is bad input: exit 2, the transaction rolls back.
    err.print(f"[red]{exc}[/]", highlight=False)
    raise typer.Exit(EXIT_INPUT)


@app.command(
    "coopt",
    help=_l(
        "Co-opt someone to one meeting.\n\nA known person is given by id; a guest from outside the agreement "
        "with --name, --email and --organisation (the guest stays when the file is loaded again)."
    ),
)
def coopt(
    meeting: MeetingArg,
    person: Annotated[
        str | None, typer.Argument(help=_l("person id (or --name/--email for a guest)"))
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help=_l("the guest's name"))] = None,
    email: Annotated[str | None, typer.Option("--email", help=_l("the guest's email"))] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help=_l("the organisation's id, e.g. foreningar"))
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help=_l("the guest's title"))] = None,
    language: Annotated[
        str, typer.Option("--language", help=_l("sv or en: the language of the guest's mails"))
    ] = "sv",
    agreement: AgreementOpt = None,
) -> None:
    """Co-opt a known person or a guest to one meeting."""
    if (person is None) == (name is None):
        raise typer.BadParameter(_("give a person id or --name (not both)"), param_hint="PERSON")
    if name is not None and (not email or not organisation):
        raise typer.BadParameter(_("a guest needs --email and --organisation"), param_hint="--name")
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
            _("%(name)s (%(key)s) co-opted to %(meeting)s.", name=p.name, key=p.key, meeting=m.key),
            highlight=False,
        )


@app.command("reschedule", help=_l("Move a meeting (the invited get an update)."))
def reschedule(
    meeting: MeetingArg,
    start: Annotated[str, typer.Option("--start", help=_l("the new time YYYY-MM-DDTHH:MM"))],
    minutes: Annotated[int | None, typer.Option("--minutes")] = None,
    location: Annotated[str | None, typer.Option("--location")] = None,
    agreement: AgreementOpt = None,
) -> None:
    """Move a meeting (the invited get an update)."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        begins = _when(start, agr, "--start")
        actions.reschedule(
            session, sync, m, begins, begins + timedelta(minutes=minutes) if minutes else None, location
        )
        console.print(_("%(key)s moved (sequence %(sequence)s).", key=m.key, sequence=m.sequence))


@app.command("cancel", help=_l("Cancel a meeting."))
def cancel(
    meeting: MeetingArg, reason: Annotated[str, typer.Option("--reason")], agreement: AgreementOpt = None
) -> None:
    """Cancel a meeting."""
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        actions.cancel(session, sync, m, reason)
        console.print(_("%(key)s is cancelled.", key=m.key))


@app.command("minutes", help=_l("Record the minutes and who attended; another round is a new revision."))
def minutes_command(
    meeting: MeetingArg,
    file: Annotated[
        Path, typer.Argument(help=_l("the minutes (text or Markdown)"), exists=True, dir_okay=False)
    ],
    attended: Annotated[
        str, typer.Option("--attended", help=_l("who attended, person ids separated by commas"))
    ],
    agreement: AgreementOpt = None,
) -> None:
    """Record minutes."""
    text = file.read_text(encoding="utf-8")
    with agreement_transaction(agreement) as (session, agr, sync):
        m = actions.find_meeting(session, agr, meeting)
        present = [
            actions.find_person(session, agr, key.strip()) for key in attended.split(",") if key.strip()
        ]
        revision = actions.record_minutes(session, sync, m, text, present, sync.clock.now())
        console.print(
            _("Minutes of %(key)s recorded (revision %(revision)s).", key=m.key, revision=revision.revision)
        )
