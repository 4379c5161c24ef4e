"""What "held" means, once: the mail's agenda, the yearly report, the overview and the cycle count with it.

A meeting is held once its status says so (held, or closed with minutes); a cancelled one is not
planned. The council's meetings are its ordinary meetings and the yearly review, which the council
holds too: "4 of 4" in a mail against "5/5" in the report came from counting two different sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from workflow.meetings.models import MeetingKind, MeetingStatus

HELD = (MeetingStatus.HELD, MeetingStatus.CLOSED)
COUNCIL_KINDS = (MeetingKind.COUNCIL, MeetingKind.YEARLY_REVIEW)


def is_held(status: str) -> bool:
    return status in HELD


@dataclass(frozen=True)
class Tally:
    """A group of meetings: planned (not cancelled), held, cancelled."""

    planned: int
    held: int
    cancelled: int


def tally(statuses: Iterable[str]) -> Tally:
    """The tally of the meetings whose statuses are given."""
    planned = held = cancelled = 0
    for status in statuses:
        cancelled += status == MeetingStatus.CANCELLED
        planned += status != MeetingStatus.CANCELLED
        held += is_held(status)
    return Tally(planned, held, cancelled)
