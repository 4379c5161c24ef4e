"""The Härnösand agreement as data holds every fact of the seed, its plan rows exactly as written."""

from __future__ import annotations

import pytest

from tests.conftest import HARNOSAND, SEED
from workflow.agreement.validate import read_agreement


def seed_rows() -> list[tuple[str, str, str, str, str]]:
    """(area title, Mål, Aktivitet, När, Ansvarig) of every plan row of the seed, an empty Mål
    continuing the goal above: read straight from the seed's tab-separated tables."""
    rows, area, goal, in_table = [], None, None, False
    for line in SEED.read_text(encoding="utf-8").splitlines():
        if line.startswith("Mål\tAktivitet\tNär\tAnsvarig"):
            in_table = True
            continue
        if in_table and "\t" in line:
            cells = line.split("\t")
            goal = cells[0] or goal
            rows.append((area, goal, cells[1], cells[2], cells[3]))
            continue
        in_table = False
        head = line.strip()
        if head[:2] in {f"{n}." for n in range(1, 6)}:  # a numbered heading: the area
            area = head[3:].strip()
    return rows


@pytest.fixture(scope="module")
def agreement():
    return read_agreement(HARNOSAND)


def test_every_plan_row_of_the_seed_is_in_the_file_exactly_as_written(agreement):
    expected = seed_rows()
    assert len(expected) == 19
    area_title = {a.id: a.title for a in agreement.spec.plan.areas}
    got = [
        (area_title[a.area_key], a.goal_title, a.title, a.when_text, a.responsible_text)
        for a in agreement.activities
    ]
    assert got == expected


def test_five_priority_areas_identified_by_title_with_both_numberings(agreement):
    areas = agreement.spec.plan.areas
    assert [a.title for a in areas] == [
        "Förebyggande arbete ungdomar",
        "Trygga medborgare i ett tryggt centrum",
        "Alkohol och drogrelaterad brottslighet",
        "Trafik",
        "Livsstilskriminella",
    ]
    by_priority = sorted(areas, key=lambda a: a.priority)
    assert [a.title for a in by_priority] == [
        "Förebyggande arbete ungdomar",
        "Alkohol och drogrelaterad brottslighet",
        "Trygga medborgare i ett tryggt centrum",
        "Trafik",
        "Livsstilskriminella",
    ]


def test_signatories_are_the_management_to_escalate_to(agreement):
    spec = agreement.spec
    people = {p.id: p for p in spec.people}
    signed = {(people[s.person].name, s.title) for s in spec.signatories}
    assert signed == {
        ("Thomas Nyberg", "Närpolischef, Härnösands närpolisområde"),
        ("Fred Nilsson", "Kommunstyrelsens ordförande"),
    }
    management = {p.name for p in spec.people if "management" in p.roles}
    assert management == {"Thomas Nyberg", "Fred Nilsson"}
    assert set(spec.cycle.evaluation.report_to) == {"thomas-nyberg", "fred-nilsson"}
    assert spec.signed.date.isoformat() == "2010-12-22" and spec.signed.place == "Härnösand"


def test_parties_council_period_and_cycle(agreement):
    spec = agreement.spec
    parties = {o.name for o in spec.organisations if o.kind == "party"}
    assert parties == {"Härnösands närpolisområde", "Härnösands kommun"}
    assert (spec.period.start.isoformat(), spec.period.end.isoformat()) == ("2012-01-01", "2013-12-31")
    assert spec.council.name == "Rådet för trygghet och hälsa"
    assert spec.council.convened_by == "kommunen"
    assert spec.council.reference_group.name == "Referensgruppen till Rådet för trygghet och hälsa"
    assert [s.number for s in spec.cycle.steps] == [1, 2, 3, 4, 5]
    assert len(spec.cycle.check_ins.months) == 2
    assert set(spec.cycle.check_ins.parties) == {"kommunen", "polisen"}
    assert spec.cycle.yearly_review.by == "council"


def test_invented_addresses_are_clearly_examples(agreement):
    assert all(str(p.email).endswith("@example.org") for p in agreement.spec.people)


def test_the_empty_mal_row_continues_the_goal_above(agreement):
    last_two = agreement.activities[-2:]
    assert [a.key for a in last_two] == ["liv-arbetsgrupp", "liv-anmalningar"]
    assert last_two[0].goal_key == last_two[1].goal_key


def test_ansvarig_is_parsed_into_leads_and_partners(agreement):
    by_key = {a.key: a for a in agreement.activities}
    assert by_key["ung-kontaktuppgifter"].leads == ("polisen", "skola")
    assert by_key["ung-utbildningsdagar"].leads == ("kommunen",)
    assert by_key["ung-utbildningsdagar"].partners == (
        "polisen",
        "raddningstjanst",
        "socialtjanst",
        "handeln",
    )
    assert by_key["ung-kaken"].leads == ("polisen",)
    assert by_key["ung-kaken"].partners == ("fritid",)
    assert by_key["tra-planer"].leads == ("samhallsforvaltning", "polisen")
