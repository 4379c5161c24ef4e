"""A timing in words for people, in Swedish or English (the catalogues' words, babel's day names)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from babel.dates import get_day_names

from workflow.i18n import gettext, ngettext, pgettext
from workflow.plan_language.timing.dates import AnyTiming, as_timing
from workflow.plan_language.timing.model import (
    WEEKDAYS,
    AsNeededTiming,
    CombinedTiming,
    ContinuousTiming,
    DeadlineTiming,
    EventTiming,
    OccasionsTiming,
    RecurringTiming,
    Rule,
    WindowTiming,
)

Lang = Literal["sv", "en"]
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def describe(timing: AnyTiming, lang: Lang = "sv") -> str:
    """A short description for people, in Swedish or English."""
    match timing := as_timing(timing):
        case DeadlineTiming(due=due):
            return gettext("by %(day)s", lang, day=due.isoformat())
        case WindowTiming(start=start, end=end):
            return _describe_span(start, end, lang)
        case RecurringTiming(rule=rule, start=start, end=end):
            return f"{_describe_rule(rule, lang)} {_describe_span(start, end, lang)}"
        case ContinuousTiming(start=start, end=end, follow_up=rule, note=note):
            text = pgettext("timing", "continuously", lang) + (f" ({note})" if note else "")
            text += " " + _describe_span(start, end, lang)
            if rule:
                text += gettext(", followed up %(rule)s", lang, rule=_describe_rule(rule, lang))
            return text
        case OccasionsTiming(times=n, at_least=at_least, per=per, start=start, end=end):
            return f"{_describe_count(n, at_least, per, lang)} {_describe_span(start, end, lang)}"
        case AsNeededTiming(start=start, end=end):
            return pgettext("timing", "as needed", lang) + " " + _describe_span(start, end, lang)
        case EventTiming(event=event, follow_up_days=days):
            return ngettext(
                "on %(event)s (within %(n)s working day)",
                "on %(event)s (within %(n)s working days)",
                days,
                lang,
                event=event,
            )
        case CombinedTiming(parts=parts):
            return gettext("; also ", lang).join(describe(p, lang) for p in parts)
    raise TypeError(f"not a timing: {timing!r}")


def _day_names(lang: Lang) -> dict[str, str]:
    names = get_day_names("wide", locale=_LOCALES[lang])  # 0 = Monday
    return {code: names[i] for i, code in enumerate(WEEKDAYS)}


def _describe_count(n: int, at_least: bool, per: str | None, lang: Lang) -> str:
    if at_least:
        text = ngettext("at least %(n)s occasion", "at least %(n)s occasions", n, lang)
    else:
        text = ngettext("%(n)s occasion", "%(n)s occasions", n, lang)
    if per == "week":
        text += " " + pgettext("timing", "a week", lang)
    elif per == "month":
        text += " " + pgettext("timing", "a month", lang)
    elif per == "term":
        text += " " + pgettext("timing", "a term", lang)
    elif per == "year":
        text += " " + pgettext("timing", "a year", lang)
    return text


def _describe_rule(rule: Rule, lang: Lang) -> str:
    if rule.freq == "daily":
        text = pgettext("timing", "every day", lang)
    elif rule.freq in ("weekly", "biweekly"):
        days = [_day_names(lang)[d] for d in rule.weekdays] or [pgettext("timing", "week", lang)]
        listed = (
            days[0]
            if len(days) == 1
            else gettext("%(first)s and %(last)s", lang, first=", ".join(days[:-1]), last=days[-1])
        )
        if rule.freq == "weekly":
            text = gettext("every %(days)s", lang, days=listed)
        else:
            text = gettext("every other %(days)s", lang, days=listed)
    elif rule.freq == "yearly" and rule.times > 1:
        text = ngettext("%(n)s time a year", "%(n)s times a year", rule.times, lang)
    else:
        text = {
            "monthly": pgettext("timing", "monthly", lang),
            "quarterly": pgettext("timing", "quarterly", lang),
            "yearly": pgettext("timing", "yearly", lang),
        }[rule.freq]
    if rule.until:
        text += gettext(" at %(time)s", lang, time=f"{rule.hour:02}:{rule.minute:02}–{rule.until}")
    elif (rule.hour, rule.minute) != (8, 0):
        text += gettext(" at %(time)s", lang, time=f"{rule.hour:02}:{rule.minute:02}")
    return text


def _describe_span(start: date | None, end: date | None, lang: Lang) -> str:
    if start is None and end is None:
        return gettext("during the agreement period", lang)
    if start and end and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        years = str(start.year) if start.year == end.year else f"{start.year}–{end.year}"
        return gettext("during %(years)s", lang, years=years)
    first = start.isoformat() if start else "…"
    last = end.isoformat() if end else "…"
    return gettext("%(start)s to %(end)s", lang, start=first, end=last)
