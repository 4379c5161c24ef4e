"""What a mail tells its reader on the day it leaves: first names, working days left or late.

Notices are decided days before a mail may leave (a catch-up sweep, a quiet week); the counts a
reader acts on are taken on the day of sending, from the agreement's own working days.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflow.workdays import WorkCalendar


def first_name(name: str) -> str:
    """The name a greeting uses: "Anna" of "Anna Sjöberg" (the whole name when it is one word)."""
    parts = name.split()
    return parts[0] if parts else name


def on_the_day(item: dict[str, Any], cal: WorkCalendar, today: date) -> dict[str, Any]:
    """`item` with `days_left` (a target still ahead) or `days_late` (one passed), in working days."""
    due = item.get("due")
    if not due or item.get("rule") not in ("reminder", "overdue", "escalation"):
        return item
    due_day = date.fromisoformat(due)
    if due_day >= today:
        return {**item, "days_left": cal.working_days_between(today, due_day)}
    return {**item, "days_late": max(cal.working_days_between(due_day, today), 1)}
