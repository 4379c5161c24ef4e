"""An agreement's reminder policy (stages, send hour, quiet weeks, escalation ladder) as the rules read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from workflow.agreement.schema import RemindersSpec

Audience = Literal["owner", "coordinator", "management"]


@dataclass(frozen=True)
class QuietPeriod:
    """ISO weeks from..to (inclusive) in which non-urgent reminders wait; from > to wraps."""

    from_week: int
    to_week: int

    def contains(self, d: date) -> bool:
        week = d.isocalendar().week
        if self.from_week <= self.to_week:
            return self.from_week <= week <= self.to_week
        return week >= self.from_week or week <= self.to_week

    def first_day_after(self, d: date) -> date:
        """The first day after the quiet period that `d` lies in."""
        while self.contains(d):
            d += timedelta(days=1)
        return d


@dataclass(frozen=True)
class EscalationStep:
    after: int  # working days after the deadline
    to: Audience


@dataclass(frozen=True)
class ReminderPolicy:
    stages: tuple[int, ...] = (10, 3, 0)
    follow_up_stages: tuple[int, ...] = (3,)
    hour: int = 8
    minute: int = 0
    quiet: tuple[QuietPeriod, ...] = (QuietPeriod(28, 31),)
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(1, "owner"),
        EscalationStep(5, "coordinator"),
        EscalationStep(10, "management"),
    )

    def quiet_period_of(self, d: date) -> QuietPeriod | None:
        return next((q for q in self.quiet if q.contains(d)), None)


def policy_from_config(config: Mapping[str, Any] | None) -> ReminderPolicy:
    """The policy of an agreement's stored `reminders` section ({} means the defaults)."""
    spec = RemindersSpec.model_validate(dict(config or {}))
    hour, minute = (int(x) for x in spec.send_at.split(":"))
    return ReminderPolicy(
        stages=tuple(spec.stages),
        follow_up_stages=tuple(spec.follow_up_stages),
        hour=hour,
        minute=minute,
        quiet=tuple(QuietPeriod(q.from_week, q.to_week) for q in spec.quiet_weeks),
        escalation=tuple(EscalationStep(s.after, s.to) for s in spec.escalation),
    )
