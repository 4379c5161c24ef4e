"""The När (when) of an activity: structured timings, the Swedish phrase parser, and their dates.

A plan gives either a phrase (`when: Under höstterminen 2012`) or the structured form
(`timing: {kind: window, start: 2012-08-15, end: 2012-12-20}`); both end up as a `Timing`.

Kinds and what they mean for the engine:
- deadline:   something is due on `due`.
- window:     done some time within start..end ("Under 2012"); due at `end`.
- recurring:  operational occurrences by a `Rule` ("varje fredag och lördag",
              "Under helgkvällar/nätter" = Fri and Sat at 22:00, "2 gånger/år").
              Rules of a month or longer are also followed up on each occurrence.
- continuous: ongoing work without a due date ("Kontinuerligt", "Löpande", "Under öppettider"),
              optionally with a dated follow-up rule ("Uppföljning månadsvis").
- occasions:  a count to follow up, not a recurrence on fixed days: "minst 4 tillfällen under
              2026" (due at the span's end), "2 gånger per månad" (followed up each month).
- as_needed:  done when needed ("Vid behov"): no deadline, no follow-up, no event to record.
- event:      due `follow_up_days` working days after an outside event ("vid remissförfarande").
- combined:   several of the above ("2 gånger/år samt vid remissförfarande").
Recurring and continuous timings without start/end span the agreement period.

Defaults (see SchoolTerms, Seasons): höstterminen 08-15..12-20, vårterminen 01-09..06-15,
våren 03-01..05-31, sommaren 06-01..08-31, hösten 09-01..11-30. "Vecka N" is its working
week, Monday..Friday, so it is due on the Friday. Month-scale rules fall on the last day of
each month, quarter or 12/times months (the report is due when the period is over).
"kväll"/"natt" words put a rule at 22:00, "kl HH[:MM]" at that time, otherwise 08:00.
A phrase without a year means that date or span in the plan's own year (TimingContext.year:
the heading "Handlingsplan 2026" or `--year`), else the first one not over before the period.
School holidays (sportlov, påsklov, sommarlov, höstlov, jullov) come from the agreement's
`calendar.holidays`, else from SchoolHolidays' defaults.
Reading is case- and space-insensitive; close misspellings of the grammar's words of six
letters or more are corrected ("projektiden" → "projekttiden").
"""

from workflow.plan_language.timing.dates import (
    AnyTiming,
    deadline_of,
    event_due,
    follow_ups,
    occurrences,
    start_of,
)
from workflow.plan_language.timing.describe import describe
from workflow.plan_language.timing.model import (
    HOLIDAYS,
    TIMES_PER_YEAR,
    TIMING,
    WEEKDAYS,
    YEARS,
    AsNeededTiming,
    CombinedTiming,
    ContinuousTiming,
    DeadlineTiming,
    EventTiming,
    OccasionsTiming,
    RecurringTiming,
    Rule,
    SchoolHolidays,
    SchoolTerms,
    Seasons,
    Timing,
    TimingContext,
    TimingError,
    WindowTiming,
    YearlySpan,
    as_yaml,
    to_data,
)
from workflow.plan_language.timing.parse import (
    parse_timing_spec,
    parse_when,
    plan_period,
    timing_warnings,
)

__all__ = [
    "HOLIDAYS",
    "TIMES_PER_YEAR",
    "TIMING",
    "WEEKDAYS",
    "YEARS",
    "AnyTiming",
    "AsNeededTiming",
    "CombinedTiming",
    "ContinuousTiming",
    "DeadlineTiming",
    "EventTiming",
    "OccasionsTiming",
    "RecurringTiming",
    "Rule",
    "SchoolHolidays",
    "SchoolTerms",
    "Seasons",
    "Timing",
    "TimingContext",
    "TimingError",
    "WindowTiming",
    "YearlySpan",
    "as_yaml",
    "deadline_of",
    "describe",
    "event_due",
    "follow_ups",
    "occurrences",
    "parse_timing_spec",
    "parse_when",
    "plan_period",
    "start_of",
    "timing_warnings",
    "to_data",
]
