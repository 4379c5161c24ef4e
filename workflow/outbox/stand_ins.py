"""Absences with a deputy: while a person is away, the engine's notices to them go to their deputy.

The one place recipients are replaced: every notice the sweep drafts (reminders, overdue notices,
escalations, meeting mails) passes `StandIns.route` before it becomes a row. The notice keeps its
key (rule, the absent person, occurrence), so it is made once whoever stands in; its payload says
on whose behalf (*på uppdrag av*), and the ladder's names of the responsible say who stands in.
A mail a person asks for themselves (a sign-in link) is never routed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Absence, Agreement, Person

# A deputy who is away too hands on to their own deputy, this many steps at most (no loops).
MAX_HANDOVERS = 3


@dataclass(frozen=True)
class Away:
    person_id: int
    deputy_id: int
    starts_on: date
    ends_on: date


class StandIns:
    """The absences of some agreements, read once per batch; `route` answers who receives a notice."""

    def __init__(self, session: Session, agreement_ids: Iterable[int], now: datetime | None = None) -> None:
        ids = set(agreement_ids)
        self.now = now  # a notice drafted late (a catch-up) goes to whoever stands in when it is drafted
        self.zones = {
            aid: ZoneInfo(tz)
            for aid, tz in session.execute(
                select(Agreement.id, Agreement.timezone).where(Agreement.id.in_(ids))
            )
        }
        self.away: dict[int, list[Away]] = {}
        people: set[int] = set()
        for a in session.scalars(
            select(Absence).where(Absence.agreement_id.in_(ids), Absence.cancelled_at.is_(None))
        ):
            self.away.setdefault(a.person_id, []).append(
                Away(a.person_id, a.deputy_id, a.starts_on, a.ends_on)
            )
            people |= {a.person_id, a.deputy_id}
        self.names = (
            dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(people))).all())
            if people
            else {}
        )

    def deputy_on(self, person_id: int, day: date) -> int | None:
        """Who stands in for `person_id` on `day` (following deputies who are away too), or None."""
        current, seen = person_id, {person_id}
        for _ in range(MAX_HANDOVERS):
            away = next((a for a in self.away.get(current, ()) if a.starts_on <= day <= a.ends_on), None)
            if away is None or away.deputy_id in seen:
                break
            current = away.deputy_id
            seen.add(current)
        return None if current == person_id else current

    def stood_in_by(self, deputy_id: int, day: date) -> set[int]:
        """The people whose mails go to `deputy_id` on `day`: the same rule as `deputy_on`, read backwards."""
        return {person_id for person_id in self.away if self.deputy_on(person_id, day) == deputy_id}

    def local_day(self, agreement_id: int, instant: datetime) -> date:
        """The day `instant` falls on in the agreement's time zone (absences are local dates)."""
        return _local_day(instant, self.zones.get(agreement_id))

    def route(self, row: dict[str, Any]) -> dict[str, Any]:
        """A notice row (workflow.outbox.notices.notice_row) sent to whoever stands in on its day: the
        day it is due, or the day it is drafted when the engine catches up later than that."""
        if not self.away:
            return row
        at = max(row["due_at"], self.now) if self.now is not None else row["due_at"]
        day = _local_day(at, self.zones.get(row["agreement_id"]))
        payload = dict(row["payload"])
        stand_ins = self._stand_ins(payload.get("contacts"), day)
        if stand_ins:
            payload["stand_ins"] = stand_ins
        deputy = self.deputy_on(row["recipient_id"], day)
        if deputy is not None:
            payload["on_behalf_of"] = self.names.get(row["recipient_id"], "")
            row = {**row, "recipient_id": deputy}
        return {**row, "payload": payload}

    def _stand_ins(self, contacts: Any, day: date) -> list[dict[str, str]]:
        """Who stands in that day for the responsible people a mail names (the ladder names the deputy)."""
        if not isinstance(contacts, list):
            return []
        out = []
        for person_id, name in self.names.items():
            if name in contacts and (deputy := self.deputy_on(person_id, day)) is not None:
                out.append({"name": self.names.get(deputy, ""), "on_behalf_of": name})
        return out


def _local_day(instant: datetime, zone: ZoneInfo | None) -> date:
    return instant.astimezone(zone).date() if zone is not None else instant.date()
