"""A plan as trygg understands it, whichever file it came from: areas and parsed activities."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from workflow.plan_language.responsibility import parse_responsible
from workflow.plan_language.timing import TimingContext, parse_timing_spec, parse_when


@dataclass(frozen=True)
class ActivityPlan:
    """One activity row as read: the raw text, and what trygg made of it."""

    area_key: str
    goal_key: str
    goal_title: str
    key: str
    title: str
    when_text: str | None
    responsible_text: str
    leads: tuple[str, ...]
    partners: tuple[str, ...]
    timing: dict[str, Any] | None  # None: the När could not be read and the row was kept without one
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AreaContent:
    key: str
    title: str
    priority: int | None  # None: keep what the store has (a plan import knows no priority list)
    background: str | None
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanContent:
    """One version of the action plan, ready to be written to the store."""

    title: str
    year: int
    origin: Literal["agreement", "import"]
    source: str
    sha256: str
    areas: tuple[AreaContent, ...]
    activities: tuple[ActivityPlan, ...]

    def as_json(self) -> dict[str, Any]:
        """The version as kept in plan_versions.content: areas, goals, rows as written."""
        areas = []
        for area in self.areas:
            goals: dict[str, dict[str, Any]] = {}
            for act in self.activities:
                if act.area_key != area.key:
                    continue
                goal = goals.setdefault(act.goal_key, {"title": act.goal_title, "activities": []})
                goal["activities"].append(
                    {
                        "id": act.key,
                        "activity": act.title,
                        "when": act.when_text,
                        "responsible": act.responsible_text,
                        "timing": act.timing,
                    }
                )
            areas.append(
                {
                    "id": area.key,
                    "title": area.title,
                    "background": area.background,
                    "footnotes": list(area.footnotes),
                    "goals": list(goals.values()),
                }
            )
        return {"title": self.title, "year": self.year, "areas": areas}


def read_activity(
    *,
    area_key: str,
    goal_key: str,
    goal_title: str,
    key: str,
    title: str,
    when: str | None,
    responsible: str,
    timing: Mapping[str, Any] | None,
    aliases: Mapping[str, str],
    ctx: TimingContext,
    footnotes: tuple[str, ...] = (),
    without_timing: bool = False,
) -> ActivityPlan:
    """Parse one row's Ansvarig and När (or structured timing). Raises ResponsibilityError
    or TimingError; the caller knows the row's place and reports it. `without_timing`: the När is
    kept as text only (a row kept although its När cannot be read: no dates, no reminders)."""
    resp = parse_responsible(responsible, aliases)
    if without_timing:
        parsed = None
    else:
        parsed = parse_timing_spec(timing) if timing is not None else parse_when(when or "", ctx)
    return ActivityPlan(
        area_key=area_key,
        goal_key=goal_key,
        goal_title=goal_title,
        key=key,
        title=title,
        when_text=when,
        responsible_text=responsible,
        leads=resp.leads,
        partners=resp.partners,
        timing=parsed.model_dump(mode="json") if parsed is not None else None,
        footnotes=footnotes,
    )


def normalise_text(text: str | None) -> str | None:
    """Paragraphs separated by one blank line, each on one line: the same text reads the same
    whether it came folded from YAML or copied from Word."""
    if text is None:
        return None
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text)]
    joined = "\n\n".join(p for p in paragraphs if p)
    return joined or None


def title_key(text: str) -> str:
    """How titles are matched: case and spacing do not matter."""
    return " ".join(text.split()).casefold()
