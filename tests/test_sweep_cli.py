"""`trygg sweep --now` on the Härnösand agreement, `trygg activity …`, `trygg synthetic`: the CLI.

Every command runs in-process through Typer's runner: the same command line a user runs, without
an interpreter start-up each time (tests/test_entry_point.py runs the real process).
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.conftest import trygg


@pytest.fixture
def env(cli_loaded, tmp_path) -> dict[str, str]:
    return {
        "TRYGG_DATABASE_URL": cli_loaded,
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
        "TRYGG_LANGUAGE": "sv",
        "COLUMNS": "200",
    }


def mails(env) -> dict[str, object]:
    folder = Path(env["TRYGG_MAIL_DIR"])
    if not folder.exists():
        return {}
    return {
        p.name: message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    }


def sweep(env, when: str, *extra: str):
    result = trygg("sweep", "--now", when, *extra, env=env)
    assert result.returncode == 0, result.stderr
    return result


def test_the_year_end_reminders_go_out_once_then_the_ladder_climbs(env):
    sweep(env, "2012-12-17T08:00:00+01:00")
    first = mails(env)
    reminders = {name: m for name, m in first.items() if m["X-Trygg-Kind"] in ("reminder", "digest")}
    assert reminders and all(name.startswith("2012-12-17_") for name in first)
    johan = next(m for m in reminders.values() if m["To"].addresses[0].addr_spec == "johan.berg@example.org")
    text = johan.get_body(("plain",)).get_content()
    assert "Kontaktuppgifter ska lämnas mellan polis och skola" in text
    assert "fredag 28 december 2012" in text
    assert johan["Reply-To"].addresses[0].addr_spec == "anna.sjoberg@example.org"

    sweep(env, "2012-12-17T08:00:00+01:00")
    assert mails(env).keys() == first.keys()  # the same command again writes nothing

    seen = set(first)
    to_by_day: dict[str, set[str]] = {}
    for day in ("2012-12-19", "2012-12-26", "2013-01-02", "2013-01-09", "2013-01-16"):
        sweep(env, f"{day}T08:00:00+01:00")
        now = mails(env)
        new = {name: m for name, m in now.items() if name not in seen}
        seen |= set(new)
        to_by_day[day] = {
            m["To"].addresses[0].display_name for m in new.values() if m["X-Trygg-Kind"] == "escalation"
        }
    assert to_by_day["2013-01-09"] == {"Anna Sjöberg"}  # +5 working days: the coordinator
    assert to_by_day["2013-01-16"] == {"Thomas Nyberg", "Fred Nilsson"}  # +10: management


def test_a_dry_run_shows_what_would_go_out_and_changes_nothing(env):
    # A Monday: the coordinator's weekly summary is one mail more than the reminders, digests and escalations.
    dry = json.loads(sweep(env, "2012-12-17T08:00:00+01:00", "--dry-run", "--json").stdout)
    assert dry["dry_run"] and len(dry["delivery"]["sent"]) == 9
    assert mails(env) == {}
    real = json.loads(sweep(env, "2012-12-17T08:00:00+01:00", "--json").stdout)
    assert sorted(m["to"] for m in real["delivery"]["sent"]) == sorted(
        m["to"] for m in dry["delivery"]["sent"]
    )
    assert len(mails(env)) == 9


def test_a_bad_instant_is_refused(env):
    result = trygg("sweep", "--now", "den 17 december", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_activity_commands_act_and_refuse_what_does_not_fit(env):
    done = trygg("activity", "done", "ung-natmobbning", "--note", "föreläsningen hölls", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] is True
    again = trygg("activity", "done", "ung-natmobbning", env=env)
    assert again.returncode == 0 and "redan klar" in again.stdout
    extended = trygg(
        "activity",
        "extend",
        "ung-kontaktuppgifter",
        "--to",
        "2013-02-28",
        "--reason",
        "nya rektorer",
        env=env,
    )
    assert extended.returncode == 0, extended.stderr
    backwards = trygg(
        "activity", "extend", "ung-kontaktuppgifter", "--to", "2013-01-01", "--reason", "x", env=env
    )
    assert backwards.returncode == 2 and "efter" in backwards.stderr
    progress = trygg("activity", "progress", "liv-arbetsgrupp", "--note", "möte 12 dec", env=env)
    assert progress.returncode == 0
    ack = trygg("activity", "ack", "cen-trygghetsvandring", env=env)  # long overdue by today
    assert ack.returncode == 0, ack.stderr
    unknown = trygg("activity", "done", "finns-inte", env=env)
    assert unknown.returncode == 3
    status = json.loads(trygg("status", "--json", env=env).stdout)
    acts = {a["id"]: a for area in status["agreements"][0]["areas"] for a in area["activities"]}
    assert acts["ung-natmobbning"]["state"] == "done" and acts["ung-natmobbning"]["next_action_at"] is None
    assert acts["ung-kontaktuppgifter"]["effective_deadline"] == "2013-02-28"
    assert acts["liv-arbetsgrupp"]["state"] == "in_progress"


def test_a_synthetic_agreement_loads_and_sweeps(env, tmp_path):
    path = tmp_path / "synthetic.yaml"
    made = trygg(
        "synthetic", str(path), "--activities", "60", "--people", "12", "--around", "2013-03-13", env=env
    )
    assert made.returncode == 0, made.stderr
    assert trygg("load", str(path), env=env).returncode == 0
    result = json.loads(sweep(env, "2013-03-13T08:00:00+01:00", "--json").stdout)
    sent = result["delivery"]["sent"]
    groups = [(m["to"], m["kind"] if m["kind"] in ("escalation", "weekly_summary") else "own") for m in sent]
    assert sent and len(set(groups)) == len(groups)  # a person's notices of the day share a mail
