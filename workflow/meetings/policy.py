"""An agreement's meeting settings (agenda call, invitation, reports, minutes chase) as the rules read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.agreement.schema import MeetingsSpec, RemindersSpec


@dataclass(frozen=True)
class MeetingPolicy:
    """Days around a meeting (calendar days, moved onto working days) and the send hour."""

    agenda_call_days: int = 14
    invitation_days: int = 7
    report_days: int = 2
    minutes_request_days: int = 1
    minutes_due_days: int = 7
    chase_every_days: int = 7
    hour: int = 8
    minute: int = 0


def meeting_policy(
    meetings_config: Mapping[str, Any] | None, reminders_config: Mapping[str, Any] | None
) -> MeetingPolicy:
    """The policy of an agreement's stored `meetings` section ({} means the defaults); the send
    hour is the one reminders use, so a person's mails of a day leave together."""
    spec = MeetingsSpec.model_validate(dict(meetings_config or {}))
    hour, minute = (
        int(x) for x in RemindersSpec.model_validate(dict(reminders_config or {})).send_at.split(":")
    )
    return MeetingPolicy(
        agenda_call_days=spec.agenda_call_days,
        invitation_days=spec.invitation_days,
        report_days=spec.report_days,
        minutes_request_days=spec.minutes_request_days,
        minutes_due_days=spec.minutes_due_days,
        chase_every_days=spec.chase_every_days,
        hour=hour,
        minute=minute,
    )
