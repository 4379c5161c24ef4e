"""A meeting's agenda (dagordning): the standing items of its kind, what members proposed,
and for the yearly review and the evaluation, items generated from the year's cycle."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus
from workflow.plan.models import Activity, ActivityState, PriorityArea


def agenda(session: Session, agreement: Agreement, meeting: Meeting) -> list[str]:
    """The agenda as numbered lines' text, in Swedish (the council's working language)."""
    proposed = [item.title for item in meeting.agenda]
    if meeting.kind == MeetingKind.COUNCIL:
        return [
            "Mötets öppnande",
            "Föregående mötesanteckningar",
            "Lägesbild: aktuella händelser från polis och kommun",
            "Handlingsplanen: läget per prioriterat område",
            *proposed,
            "Övriga frågor",
            "Nästa möte",
        ]
    if meeting.kind == MeetingKind.CHECK_IN:
        return [
            "Genomgång av handlingsplanens åtgärder (statusrapporten bifogas)",
            *[f"Område: {title}" for title in _areas(session, agreement)],
            "Åtgärder som är försenade: vad behövs?",
            *proposed,
            "Nästa avstämning",
        ]
    if meeting.kind == MeetingKind.YEARLY_REVIEW:
        counts = _counts(session, agreement)
        return [
            "Mötets öppnande",
            f"Översyn av handlingsplanen {meeting.year}",
            *[
                f"Område: {title} ({done} av {total} åtgärder klara)"
                for title, (done, total) in counts.items()
            ],
            f"Revidering: förslag till handlingsplan {meeting.year + 1}",
            *proposed,
            "Beslut",
        ]
    held, planned = _council_meetings(session, agreement, meeting.year)
    return [
        "Mötets öppnande",
        f"Resultat {meeting.year} per prioriterat område (årsrapporten bifogas)",
        f"Hur rådet har fungerat: {held} av {planned} planerade möten hållna",
        "Avstämningarna mellan kommun och polis",
        f"Inriktning för {meeting.year + 1}",
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
    rows = session.scalars(
        select(Meeting).where(
            Meeting.agreement_id == agreement.id, Meeting.year == year, Meeting.kind == MeetingKind.COUNCIL
        )
    ).all()
    held = sum(m.status in (MeetingStatus.HELD, MeetingStatus.CLOSED) for m in rows)
    planned = sum(m.status != MeetingStatus.CANCELLED for m in rows)
    return held, planned
