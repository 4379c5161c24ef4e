"""Synthetic agreements of any size around a day: N activities, M people, deadlines spread around it.

For tests, fault runs and benchmarks: the output is an ordinary agreement file, read and
loaded by the same code as Härnösand's. The same seed gives the same file. A deployment of many
(`synthetic_deployment`, a national number of partnerships) gives each its own addresses, except
the police chief of a region of ten, who leads all ten (the overview of many agreements).
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

# Of the activities: most have a dated deadline, some a window, some monthly follow-ups,
# some are ongoing work that is never reminded (the Friday patrols of the real plan).
_MIX = (("deadline", 0.6), ("window", 0.2), ("follow_up", 0.1), ("ongoing", 0.1))


def synthetic_agreement(
    *,
    activities: int,
    people: int,
    around: date,
    spread_days: int = 30,
    seed: int = 1,
    key: str | None = None,
    number: int | None = None,
) -> dict[str, Any]:
    """An agreement as the file's data: deadlines uniformly within ±spread_days of `around`;
    `number` (1, 2, …) makes it one of a deployment's, with addresses of its own."""
    if activities < 1 or people < 4:
        raise ValueError("at least 1 activity and 4 people (management ×2, coordinator, an officer)")
    rnd = random.Random(seed)
    key = key or f"synthetic-{around.isoformat()}-{activities}x{people}"
    departments = max(1, min(people - 3, 12))
    homes = ["polisen"] + [f"enhet-{i}" for i in range(1, departments + 1)]
    persons = _people(people, homes, number)
    period_start = date(around.year - 1, 1, 1)
    period_end = date(around.year + 1, 12, 31)
    return {
        "id": key,
        "title": f"Syntetisk överenskommelse {number:03d}"
        if number
        else f"Syntetisk överenskommelse kring {around.isoformat()}",
        "period": {"start": period_start, "end": period_end},
        "organisations": _organisations(departments),
        "people": persons,
        "council": {
            "name": "Rådet för trygghet och hälsa",
            "convened_by": "kommunen",
            "members": [{"person": p["id"], "mandate": "Ledamot", "from": period_start} for p in persons[:3]],
        },
        "cycle": _CYCLE,
        "plan": {
            "title": "Syntetisk handlingsplan",
            "year": around.year,
            "areas": _areas(rnd, activities, around, spread_days, homes),
        },
    }


def _organisations(departments: int) -> list[dict[str, Any]]:
    """The two parties, and the municipality's departments under it."""
    orgs: list[dict[str, Any]] = [
        {"id": "polisen", "name": "Polisen", "kind": "party", "aliases": ["polis"]},
        {"id": "kommunen", "name": "Kommunen", "kind": "party", "aliases": ["kommun"]},
    ]
    orgs += [
        {"id": f"enhet-{i}", "name": f"Enhet {i}", "kind": "department", "parent": "kommunen"}
        for i in range(1, departments + 1)
    ]
    return orgs


def _people(people: int, homes: list[str], number: int | None = None) -> list[dict[str, Any]]:
    """Both managements and the coordinator, then officers who are their organisations' contacts."""
    persons: list[dict[str, Any]] = [
        _person("chef-polis", "Polischef", "polisen", ["management"]),
        _person("ordforande", "Ordförande", "kommunen", ["management"]),
        _person("samordnare", "Samordnare", "kommunen", ["coordinator", "officer"], contact=True),
    ]
    for i in range(people - 3):
        # Every organisation gets a contact first; the rest are spread over them.
        persons.append(
            _person(
                f"person-{i + 1}",
                f"Person {i + 1}",
                homes[i % len(homes)],
                ["officer"],
                contact=True,
                language="en" if i % 7 == 6 else "sv",
            )
        )
    if number:
        for p in persons:
            p["email"] = deployment_email(p["id"], number)
    return persons


def deployment_email(person_key: str, number: int) -> str:
    """A person's address in the deployment's agreement `number`: its own domain; the police
    chief's is the region's (ten agreements), so one address leads ten partnerships."""
    if person_key == "chef-polis":
        return f"chef-polis@region-{(number - 1) // REGION + 1:02d}.example.org"
    return f"{person_key}@kommun-{number:03d}.example.org"


REGION = 10  # agreements per police region in a synthetic deployment


def synthetic_deployment(*, agreements: int, seed: int = 1, **kwargs: Any) -> list[dict[str, Any]]:
    """`agreements` synthetic agreements, `synthetic-001`…, each with its own seed and addresses."""
    return [
        synthetic_agreement(key=f"synthetic-{n:03d}", number=n, seed=seed * 10_000 + n, **kwargs)
        for n in range(1, agreements + 1)
    ]


def _areas(
    rnd: random.Random, activities: int, around: date, spread_days: int, homes: list[str]
) -> list[dict[str, Any]]:
    """The plan's areas: 20 activities an area, 5 a goal."""
    areas: list[dict[str, Any]] = []
    for n in range(activities):
        if n % 20 == 0:
            areas.append({"id": f"omrade-{len(areas) + 1}", "title": f"Område {len(areas) + 1}", "goals": []})
        goals = areas[-1]["goals"]
        if n % 5 == 0:
            goals.append({"id": f"mal-{n // 5 + 1}", "title": f"Mål {n // 5 + 1}", "activities": []})
        goals[-1]["activities"].append(_activity(rnd, n + 1, around, spread_days, homes))
    return areas


def _person(
    key: str, name: str, org: str, roles: list[str], *, contact: bool = False, language: str = "sv"
) -> dict[str, Any]:
    return {
        "id": key,
        "name": name,
        "email": f"{key}@example.org",
        "organisation": org,
        "roles": roles,
        "contact": contact,
        "language": language,
    }


def _activity(rnd: random.Random, n: int, around: date, spread: int, homes: list[str]) -> dict[str, Any]:
    kind = rnd.choices([k for k, _ in _MIX], weights=[w for _, w in _MIX])[0]
    due = around + timedelta(days=rnd.randint(-spread, spread))
    if kind == "deadline":
        timing: dict[str, Any] = {"kind": "deadline", "due": due}
    elif kind == "window":
        timing = {"kind": "window", "start": due - timedelta(days=90), "end": due}
    elif kind == "follow_up":
        timing = {"kind": "continuous", "follow_up": {"freq": "monthly"}}
    else:
        timing = {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri"], "hour": 22}}
    lead = rnd.choice(homes)
    partner = rnd.choice([h for h in homes if h != lead] or [lead])
    lead_name = "Polis" if lead == "polisen" else f"Enhet {lead.split('-')[1]}"
    partner_name = "polis" if partner == "polisen" else f"Enhet {partner.split('-')[1]}"
    responsible = (
        lead_name if partner == lead or rnd.random() < 0.5 else f"{lead_name} i samverkan med {partner_name}"
    )
    return {"id": f"akt-{n}", "activity": f"Aktivitet {n}", "timing": timing, "responsible": responsible}


_CYCLE: dict[str, Any] = {
    "steps": [
        {"number": i + 1, "key": k, "title": t, "owners": ["kommunen", "polisen"], "window": w}
        for i, (k, t, w) in enumerate(
            [
                ("facts", "Fakta", {"start": "01-01", "end": "02-28"}),
                ("situation_picture", "Lägesbild", {"start": "03-01", "end": "04-15"}),
                ("action_plan", "Handlingsplan", {"start": "04-16", "end": "05-31"}),
                ("operations", "Arbete", {"start": "06-01", "end": "11-30"}),
                ("evaluation", "Uppföljning", {"start": "12-01", "end": "12-31"}),
            ]
        )
    ],
    "council_meetings": {
        "months": [2, 4, 9, 11],
        "weekday": "tuesday",
        "week_of_month": 2,
        "time": "13:00",
        "duration_minutes": 120,
    },
    "check_ins": {
        "months": [6, 11],
        "weekday": "thursday",
        "week_of_month": 1,
        "time": "10:00",
        "duration_minutes": 90,
        "parties": ["kommunen", "polisen"],
    },
    "yearly_review": {
        "month": 10,
        "weekday": "tuesday",
        "week_of_month": 3,
        "time": "13:00",
        "duration_minutes": 180,
    },
    "evaluation": {
        "month": 12,
        "weekday": "wednesday",
        "week_of_month": 1,
        "time": "13:00",
        "duration_minutes": 120,
        "report_to": ["chef-polis", "ordforande"],
    },
}


def as_yaml(data: dict[str, Any]) -> str:
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.representer.ignore_aliases = lambda *_: True  # shared dates are written out, not &id001
    out = io.StringIO()
    yaml.dump(data, out)
    return "# A synthetic agreement made by `trygg synthetic` (workflow/synthetic.py).\n" + out.getvalue()


def write_synthetic(path: Path, **kwargs: Any) -> Path:
    path.write_text(as_yaml(synthetic_agreement(**kwargs)), encoding="utf-8")
    return path


def write_deployment(folder: Path, *, agreements: int, **kwargs: Any) -> list[Path]:
    """One file per agreement in `folder` (made if missing): synthetic-001.yaml, …"""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for data in synthetic_deployment(agreements=agreements, **kwargs):
        path = folder / f"{data['id']}.yaml"
        path.write_text(as_yaml(data), encoding="utf-8")
        paths.append(path)
    return paths
