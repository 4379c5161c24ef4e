"""An agreement's calendar settings (school terms, deadlines on days off) as the plan reads them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from workflow.plan.timing import SchoolTerms, TimingContext, YearlySpan
from workflow.workdays import WorkCalendar


def _span(window: Mapping[str, str]) -> YearlySpan:
    start_m, start_d = (int(x) for x in window["start"].split("-"))
    end_m, end_d = (int(x) for x in window["end"].split("-"))
    return YearlySpan((start_m, start_d), (end_m, end_d))


def timing_context(period_start: date, period_end: date, tz: str, config: Mapping[str, Any]) -> TimingContext:
    """What the plan's När phrases are read against; `config` is the agreement's `calendar`."""
    terms = config.get("school_terms")
    return TimingContext(
        period_start=period_start,
        period_end=period_end,
        tz=tz,
        terms=SchoolTerms(_span(terms["autumn"]), _span(terms["spring"])) if terms else SchoolTerms(),
    )


def work_calendar(tz: str, config: Mapping[str, Any]) -> WorkCalendar:
    return WorkCalendar(tz=tz, deadline_shift=config.get("deadline_on_day_off", "earlier"))
