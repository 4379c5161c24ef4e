"""A meeting's agenda (dagordning): the standing items of its kind, what members proposed,
and for the yearly review and the evaluation, items generated from the year's cycle."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.i18n import _
from workflow.meetings.held import COUNCIL_KINDS, tally
from workflow.meetings.models import Meeting, MeetingKind
from workflow.plan.models import Activity, ActivityState, PriorityArea


def agenda(session: Session, agreement: Agreement, meeting: Meeting) -> list[str]:
    """The agenda as numbered lines' text, in the agreement's language (the council's working language)."""
    proposed = [item.title for item in meeting.agenda]
    lang = agreement.language
    if meeting.kind == MeetingKind.COUNCIL:
        return [
            _("Opening of the meeting", lang),
            _("Minutes of the previous meeting", lang),
            _("Situation picture: current events from police and municipality", lang),
            _("The action plan: status per priority area", lang),
            *proposed,
            _("Any other business", lang),
            _("Next meeting", lang),
        ]
    if meeting.kind == MeetingKind.CHECK_IN:
        return [
            _("Review of the action plan's measures (the status report is attached)", lang),
            *[_("Area: %(title)s", lang, title=title) for title in _areas(session, agreement)],
            _("Measures that are late: what is needed?", lang),
            *proposed,
            _("Next check-in", lang),
        ]
    if meeting.kind == MeetingKind.YEARLY_REVIEW:
        counts = _counts(session, agreement)
        return [
            _("Opening of the meeting", lang),
            _("Review of the action plan %(year)s", lang, year=meeting.year),
            *[
                _(
                    "Area: %(title)s (%(done)s of %(total)s measures done)",
                    lang,
                    title=title,
                    done=done,
                    total=total,
                )
                for title, (done, total) in counts.items()
            ],
            _("Revision: proposed action plan %(year)s", lang, year=meeting.year + 1),
            *proposed,
            _("Decision", lang),
        ]
    held, planned = _council_meetings(session, agreement, meeting.year)
    return [
        _("Opening of the meeting", lang),
        _("Results %(year)s per priority area (the yearly report is attached)", lang, year=meeting.year),
        _(
            "How the council has worked: %(held)s of %(planned)s planned meetings held",
            lang,
            held=held,
            planned=planned,
        ),
        _("The check-ins between municipality and police", lang),
        _("Direction for %(year)s", lang, year=meeting.year + 1),
        *proposed,
    ]


def _areas(session: Session, agreement: Agreement) -> list[str]:
    return list(
        session.scalars(
            select(PriorityArea.title)
            .where(PriorityArea.agreement_id == agreement.id, PriorityArea.active)
            .order_by(PriorityArea.plan_position)
        )
    )


def _counts(session: Session, agreement: Agreement) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = {title: [0, 0] for title in _areas(session, agreement)}
    for activity in session.scalars(
        select(Activity).where(
            Activity.agreement_id == agreement.id, Activity.state != ActivityState.WITHDRAWN
        )
    ):
        entry = counts.setdefault(activity.goal.area.title, [0, 0])
        entry[1] += 1
        entry[0] += activity.state == ActivityState.DONE
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _council_meetings(session: Session, agreement: Agreement, year: int) -> tuple[int, int]:
    """Held and planned meetings of the council this year, counted as the yearly report counts them."""
    counted = tally(
        session.scalars(
            select(Meeting.status).where(
                Meeting.agreement_id == agreement.id, Meeting.year == year, Meeting.kind.in_(COUNCIL_KINDS)
            )
        )
    )
    return counted.held, counted.planned
