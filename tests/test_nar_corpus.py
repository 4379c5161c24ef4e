"""The När corpus (tests/data/nar_corpus.yaml): real phrases of Swedish plans, read as their family allows."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from workflow.plan_language.responsibility import parse_responsible
from workflow.plan_language.timing import (
    TimingContext,
    TimingError,
    parse_timing_spec,
    parse_when,
    plan_period,
    to_data,
)

CORPUS: dict[str, Any] = YAML(typ="safe").load(Path(__file__).parent / "data" / "nar_corpus.yaml")
FAMILIES: dict[str, list[str]] = CORPUS["families"]
CTX = TimingContext(period_start=date(2010, 1, 1), period_end=date(2030, 12, 31), year=2024)
SOURCED = [e for e in CORPUS["when"] if e["source"] != "composed"]
TARGET = 0.95


def _suggestion_data(error: TimingError) -> dict[str, Any]:
    return YAML(typ="safe").load(error.suggestion)["timing"]


def test_the_corpus_quotes_at_least_ten_public_documents_and_names_each_source() -> None:
    used = {e["source"] for e in SOURCED} | {e["source"] for e in CORPUS["responsible"]}
    assert used <= set(CORPUS["sources"])
    assert len({CORPUS["sources"][s] for s in used if CORPUS["sources"][s].startswith("http")}) >= 10
    assert all(e["family"] in FAMILIES for e in CORPUS["when"])


def test_sourced_phrases_parse_per_family_and_every_miss_is_a_located_error_whose_suggestion_parses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parsed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    misses = []
    for entry in SOURCED:
        family, phrase = entry["family"], entry["phrase"]
        if family == "ambiguous":
            continue  # refused by design: see the test of ambiguous phrases
        total[family] += 1
        try:
            parse_when(phrase, CTX)
        except TimingError as error:
            assert error.phrase == phrase and phrase in str(error)
            suggested = parse_timing_spec(_suggestion_data(error))
            first, last = plan_period(CTX)
            assert all(first <= d <= last for d in _dates(to_data(suggested)))
            misses.append(f"{phrase!r} ({family}): {error.message}")
        else:
            parsed[family] += 1
    with capsys.disabled():
        print("\nNär corpus, sourced phrases read, per family:")
        for family in sorted(total):
            print(
                f"  {family:<18} {parsed[family]:>3}/{total[family]:<3} {parsed[family] / total[family]:6.1%}"
            )
        share = sum(parsed.values()) / sum(total.values())
        print(f"  {'all':<18} {sum(parsed.values()):>3}/{sum(total.values()):<3} {share:6.1%}")
        for miss in misses:
            print(f"  miss: {miss}")
    assert share >= TARGET


@pytest.mark.parametrize("entry", CORPUS["when"], ids=lambda e: e["phrase"])
def test_no_phrase_of_the_corpus_parses_to_a_kind_its_family_does_not_allow(entry: dict[str, Any]) -> None:
    allowed = FAMILIES[entry["family"]]
    try:
        timing = parse_when(entry["phrase"], CTX)
    except TimingError:
        # composed phrases are written to be read; only a sourced one may stay unread
        assert entry["source"] != "composed" or not allowed
        return
    assert to_data(timing)["kind"] in allowed, to_data(timing)


@pytest.mark.parametrize(
    "entry", [e for e in CORPUS["when"] if e["family"] == "ambiguous"], ids=lambda e: e["phrase"]
)
def test_an_ambiguous_phrase_is_refused_with_the_readings_it_could_have(entry: dict[str, Any]) -> None:
    with pytest.raises(TimingError) as caught:
        parse_when(entry["phrase"], CTX)
    message = str(caught.value)
    assert message.count("kind: window") >= 2  # each reading, in the structured form
    parse_timing_spec(_suggestion_data(caught.value))


ALIASES = {
    "polisen": "polisen", "polis": "polisen", "kommunen": "kommunen", "kommun": "kommunen",
    "vadstena kommun": "kommunen", "barn&utbildning": "skolan", "skola": "skolan",
    "fritidsledare": "fritid", "ungdomar": "foreningar",
}  # fmt: skip


@pytest.mark.parametrize("entry", CORPUS["responsible"], ids=lambda e: e["phrase"])
def test_ansvarig_phrases_of_the_corpus_name_their_leads_and_partners(entry: dict[str, Any]) -> None:
    read = parse_responsible(entry["phrase"], ALIASES)
    assert (list(read.leads), list(read.partners)) == (entry["leads"], entry["partners"])


def _dates(data: dict[str, Any]) -> list[date]:
    found = [date.fromisoformat(data[k]) for k in ("due", "start", "end") if k in data]
    return found + [d for part in data.get("parts", []) for d in _dates(part)]
