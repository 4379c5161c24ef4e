"""`/agreements/<id>/meetings`: the year's meetings, and one meeting's agenda, guests, time, minutes and attendance.

Every change goes through `workflow.meetings.actions`, the functions the CLI (`trygg meeting …`) uses.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for

from web.context import db, now, trygg, writing
from web.desk_acting import acting_unit, desk_agreement
from web.uploads import UploadError, minutes_text
from workflow.agreement.models import Organisation, Person
from workflow.desk import meetings as desk
from workflow.desk.people import organisations_of, people_of
from workflow.i18n import _l, _pl
from workflow.meetings import actions
from workflow.meetings.agenda import agenda
from workflow.meetings.models import MeetingStatus

bp = Blueprint("desk_meetings", __name__)
STATUSES = {
    "planned": _pl("meeting", "planned"),
    "held": _pl("meeting", "held"),
    "closed": _pl("meeting", "closed"),
    "cancelled": _pl("meeting", "cancelled"),
}


@bp.context_processor
def _words():
    return {"status_name": lambda status: str(STATUSES.get(status, status))}


@bp.get("/agreements/<key>/meetings")
def year(key: str):
    agreement = desk_agreement(key)
    years = desk.years_of(db(), agreement)
    today = now().year
    chosen = request.args.get("year", type=int) or (
        today if today in years else (years[0] if years else today)
    )
    rows = [(m, desk.attendance(m)) for m in desk.meetings_of_year(db(), agreement, chosen)]
    return render_template("desk/meetings.html", agreement=agreement, years=years, year=chosen, rows=rows)


@bp.get("/agreements/<key>/meetings/<meeting>")
def show(key: str, meeting: str):
    agreement = desk_agreement(key)
    return _page(agreement, _meeting(agreement, meeting))


def _meeting(agreement, meeting_key):
    try:
        return actions.find_meeting(db(), agreement, meeting_key)
    except actions.MeetingError:
        abort(404)


def _page(agreement, meeting, error=None, status=200):
    return (
        render_template(
            "desk/meeting.html",
            agreement=agreement,
            meeting=meeting,
            lines=agenda(db(), agreement, meeting),
            invitees=desk.invitees_of(db(), meeting),
            counts=desk.attendance(meeting),
            people=people_of(db(), agreement),
            organisations=organisations_of(db(), agreement),
            starts=desk.local_input(meeting.starts_at, agreement.timezone),
            minutes_long=int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
            error=error,
            is_open=meeting.status not in (MeetingStatus.CANCELLED, MeetingStatus.CLOSED),
            may_record=meeting.status != MeetingStatus.CANCELLED and meeting.starts_at <= now(),
        ),
        status,
    )


@bp.post("/agreements/<key>/meetings/<meeting>/<action>")
def act(key: str, meeting: str, action: str):
    """One change to one meeting; a refused change shows the page again with why, and changes nothing."""
    handler = _ACTIONS.get(action)
    if handler is None:
        abort(404)
    agreement = desk_agreement(key)
    acting_unit(agreement)  # refused before anything is read from the form
    try:
        with writing() as session:
            agreement = desk_agreement(key)
            handler(session, acting_unit(agreement), agreement, _meeting(agreement, meeting))
    except (actions.MeetingError, UploadError) as exc:
        db().rollback()
        agreement = desk_agreement(key)
        return _page(agreement, _meeting(agreement, meeting), error=str(exc), status=422)
    kick = action in ("reschedule", "cancel", "coopt", "minutes")
    if kick:
        trygg().kick()
    return redirect(url_for("desk_meetings.show", key=key, meeting=meeting), code=303)


def _add_item(session, unit, agreement, meeting):
    actions.add_agenda_item(session, unit, meeting, request.form.get("title", ""), None)


def _move_item(session, unit, agreement, meeting):
    step = -1 if request.form.get("step") == "up" else 1
    actions.move_agenda_item(session, unit, meeting, request.form.get("item", type=int) or 0, step)


def _remove_item(session, unit, agreement, meeting):
    actions.remove_agenda_item(session, unit, meeting, request.form.get("item", type=int) or 0)


def _coopt(session, unit, agreement, meeting):
    person_id = request.form.get("person", type=int)
    if person_id:
        person = session.get(Person, person_id)
        if person is None or person.agreement_id != agreement.id or not person.active:
            raise actions.MeetingError(_l("unknown person %(key)r", key=str(person_id)))
    else:
        org = session.get(Organisation, request.form.get("organisation", type=int) or 0)
        person = actions.add_guest(
            session,
            unit,
            agreement,
            name=request.form.get("name", ""),
            email=request.form.get("email", ""),
            organisation=org.key if org is not None and org.agreement_id == agreement.id else "",
            language=request.form.get("language", "sv"),
        )
    actions.coopt(session, unit, meeting, person)


def _reschedule(session, unit, agreement, meeting):
    starts = desk.parse_local(request.form.get("starts_at", ""), agreement.timezone)
    if starts is None:
        raise actions.MeetingError(_l("give the new time as a date and a time"))
    minutes = request.form.get("minutes", type=int)
    ends = starts + timedelta(minutes=minutes) if minutes else None
    location = request.form.get("location")
    actions.reschedule(
        session, unit, meeting, starts, ends, location.strip() if location is not None else None
    )


def _cancel(session, unit, agreement, meeting):
    actions.cancel(session, unit, meeting, request.form.get("reason", ""))


def _minutes(session, unit, agreement, meeting):
    upload = request.files.get("file")
    text = request.form.get("text", "")
    if upload is not None and upload.filename:
        text = minutes_text(upload.filename, upload.stream)
    chosen = {int(v) for v in request.form.getlist("attended") if v.isdigit()}
    present = [i.person for i in meeting.invitees if i.person_id in chosen]
    actions.record_minutes(session, unit, meeting, text, present, now())


_ACTIONS = {
    "agenda": _add_item,
    "agenda-move": _move_item,
    "agenda-remove": _remove_item,
    "coopt": _coopt,
    "reschedule": _reschedule,
    "cancel": _cancel,
    "minutes": _minutes,
}
