"""How simulated people behave: when work gets done, reported, minuted — drawn from a seed.

Every draw comes from a generator seeded by (seed, what it is about), never from one shared
stream, so a decision does not depend on the order things are visited in: the same seed gives
the same people, whatever else changes around them.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from workflow.i18n import _l

Outcome = Literal["on_time", "late", "never"]


@dataclass(frozen=True)
class Behaviour:
    seed: int = 1
    on_time_rate: float = 0.6  # share of work done (or minuted, or reported) in time
    late_rate: float = 0.3  # share done late; the rest is never done
    attendance_rate: float = 0.85
    coopt_rate: float = 0.35  # council meetings with an outside guest
    agenda_item_rate: float = 0.5  # council meetings where a member proposes an item
    events_per_year: int = 2  # outside events of event-triggered duties ("vid remissförfarande")

    def __post_init__(self) -> None:
        for name in ("on_time_rate", "late_rate", "attendance_rate", "coopt_rate", "agenda_item_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    _l("%(name)s must lie between 0 and 1, not %(value)s", name=name, value=value)
                )
        if self.on_time_rate + self.late_rate > 1.0:
            raise ValueError(_l("on_time_rate + late_rate must not exceed 1"))

    def rng(self, *about: object) -> random.Random:
        digest = hashlib.sha256(repr((self.seed, *about)).encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def outcome(self, *about: object) -> Outcome:
        u = self.rng("outcome", *about).random()
        if u < self.on_time_rate:
            return "on_time"
        return "late" if u < self.on_time_rate + self.late_rate else "never"

    def done_on(self, key: str, deadline: date) -> date | None:
        """When an activity with a deadline is done: before it, well after it (long enough for
        the escalation ladder to reach management), or never."""
        outcome = self.outcome("activity", key)
        rng = self.rng("done", key)
        if outcome == "on_time":
            return deadline - timedelta(days=rng.randint(0, 20))
        if outcome == "late":
            return deadline + timedelta(days=rng.randint(3, 30))
        return None

    def reported_on(self, key: str, due: date) -> date | None:
        """When a follow-up (a monthly report, say) is reported."""
        outcome = self.outcome("follow_up", key, due)
        rng = self.rng("report", key, due)
        if outcome == "on_time":
            return due - timedelta(days=rng.randint(0, 3))
        if outcome == "late":
            return due + timedelta(days=rng.randint(2, 12))
        return None

    def minutes_after(self, meeting: str) -> int:
        """Days from a meeting to its minutes: a few, or long enough to be chased."""
        rng = self.rng("minutes", meeting)
        if self.outcome("minutes", meeting) == "on_time":
            return rng.randint(1, 5)
        return rng.randint(9, 24)

    def attends(self, meeting: str, person: str) -> bool:
        return self.rng("attends", meeting, person).random() < self.attendance_rate

    def coopts(self, meeting: str) -> bool:
        return self.rng("coopt", meeting).random() < self.coopt_rate

    def proposes_item(self, meeting: str) -> bool:
        return self.rng("agenda", meeting).random() < self.agenda_item_rate

    def pick(self, options: list[str], *about: object) -> str:
        return self.rng("pick", *about).choice(sorted(options))

    def event_days(self, key: str, year: int) -> list[date]:
        rng = self.rng("events", key, year)
        days = {date(year, 1, 1) + timedelta(days=rng.randint(20, 340)) for _ in range(self.events_per_year)}
        return sorted(days)

    def delivers(self, year: int, step: int, key: str) -> bool:
        """A cycle deliverable reported by the step's deadline (else the step is overridden)."""
        return self.outcome("deliverable", year, step, key) != "never"
