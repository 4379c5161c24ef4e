"""An agreement ends: past its period and grace the engine stops for it (its unsent notices cancelled,
why in the audit log); sixty days before the end its coordinator and management are told; the
coordinator renews it (a new period, the cycle of its first year opened) or archives it (read-only
in the CLI and on the web)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.answers_support import SIGNER, activity, person, token, unit_at
from tests.conftest import HARNOSAND, ROOT, trygg
from workflow.agreement.models import Agreement
from workflow.answers.links import LinkRefused, answer_link, view_link
from workflow.audit import AuditEntry
from workflow.cycle.models import Cycle
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import Action
from workflow.meetings.models import Meeting
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.plan.models import Activity


@pytest.fixture
def env(cli_loaded, tmp_path) -> dict[str, str]:
    return {
        "TRYGG_DATABASE_URL": cli_loaded,
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
        "TRYGG_LANGUAGE": "sv",
    }


def mails(env) -> list:
    folder = Path(env["TRYGG_MAIL_DIR"])
    return (
        [message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


def cli_sweep(env, instant: str) -> dict:
    result = trygg("sweep", "--now", instant, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def sessions_of(env):
    return session_factory(make_engine(env["TRYGG_DATABASE_URL"]))


def test_the_harnosand_agreement_left_running_into_2026_no_longer_escalates(env):
    # Loaded today and swept in 2026: its 2012 deadlines are long past, and before the agreement
    # could end the ladder went to both leaderships. Now the sweep stops for it and sends nothing.
    first = cli_sweep(env, "2026-11-30T08:00:00+01:00")
    assert first["sweep"]["ended"] == ["harnosand-2012-2013"]
    assert mails(env) == []
    assert cli_sweep(env, "2026-12-01T08:00:00+01:00")["sweep"]["ended"] == []  # once
    assert mails(env) == []
    with transaction(sessions_of(env)) as session:
        assert session.scalar(select(func.count()).where(Activity.next_action_at.is_not(None))) == 0
        assert session.scalar(select(func.count()).where(Meeting.next_action_at.is_not(None))) == 0
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ended"))
        assert entry.actor == "system" and "2014-01-30" in entry.reason


def test_the_grace_still_chases_the_last_follow_up_and_after_it_pending_notices_are_cancelled(loaded):
    sweep(loaded, datetime(2014, 1, 20, 7, 0, tzinfo=UTC))  # within the 30 days' grace
    with transaction(loaded) as session:
        waiting = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.cancelled_at.is_(None))
        )
        assert waiting > 0  # the ladder still climbs in the grace
    report = sweep(loaded, datetime(2014, 2, 3, 7, 0, tzinfo=UTC))  # the grace is over
    assert report.ended == ["harnosand-2012-2013"] and report.notices == 0
    with transaction(loaded) as session:
        unsent = select(func.count()).select_from(Notice).where(Notice.cancelled_at.is_(None))
        assert session.scalar(unsent.where(Notice.mail_id.is_(None))) == 0
        pending = session.scalars(select(Mail).where(Mail.status == MailStatus.PENDING)).all()
        assert all(n.cancelled_at is not None for m in pending for n in m.notices)
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "ended"))
        assert entry.after["notices_cancelled"] == waiting and "30" in entry.reason


def test_sixty_days_before_the_end_the_coordinator_and_management_get_one_agreement_ending_mail(env):
    cli_sweep(env, "2013-11-01T08:00:00+01:00")
    cli_sweep(env, "2013-11-04T08:00:00+01:00")
    ending = [m for m in mails(env) if m["X-Trygg-Kind"] == "agreement_ending"]
    assert sorted(m["To"].addresses[0].display_name for m in ending) == [
        "Anna Sjöberg",
        "Fred Nilsson",
        "Thomas Nyberg",
    ]
    text = ending[0].get_body(("plain",)).get_content()
    assert "31 december 2013" in text
    assert "/agreements/harnosand-2012-2013\n" in text  # renewed or archived on the desk
    assert "trygg agreement" not in text  # no command line in a mail
    assert "30 januari 2014" in text  # until when the last follow-up is chased


def test_renew_gives_the_same_agreement_a_new_period_and_opens_its_first_year(env):
    result = trygg(
        "agreement",
        "renew",
        "harnosand-2012-2013",
        "--from",
        "2027-01-01",
        "--to",
        "2028-12-31",
        "--json",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["period"] == {"start": "2027-01-01", "end": "2028-12-31"} and done["cycle_opened"] == 2027
    assert "ung-kontaktuppgifter" in done["acknowledged"]
    with transaction(sessions_of(env)) as session:
        agreement = session.scalar(select(Agreement))
        assert (agreement.key, agreement.period_end.isoformat()) == ("harnosand-2012-2013", "2028-12-31")
        assert session.scalar(select(Cycle).where(Cycle.year == 2027)) is not None
        assert session.scalar(select(func.count()).where(Meeting.year == 2028)) > 0
    # The new year's council is called; the old, acknowledged deadlines do not reach management.
    cli_sweep(env, "2027-02-01T08:00:00+01:00")
    kinds = {m["X-Trygg-Kind"] for m in mails(env)}
    assert "escalation" not in kinds


def test_renew_without_from_starts_the_day_after_the_old_end_or_today(env):
    result = trygg("agreement", "renew", "harnosand-2012-2013", "--to", "2099-12-31", "--json", env=env)
    assert result.returncode == 0, result.stderr
    start = json.loads(result.stdout)["period"]["start"]
    assert start == datetime.now(UTC).date().isoformat() or start > "2014-01-01"


def test_a_renewal_that_ends_before_it_starts_is_refused(env):
    result = trygg(
        "agreement", "renew", "harnosand-2012-2013", "--from", "2027-01-01", "--to", "2026-12-31", env=env
    )
    assert result.returncode == 2 and "2027-01-01" in result.stderr


def test_an_archived_agreement_is_read_only_in_the_cli(env, tmp_path):
    assert trygg("agreement", "archive", "harnosand-2012-2013", env=env).returncode == 0
    writes = [
        ("load", str(HARNOSAND)),
        ("plan", "import", str(ROOT / "tests" / "data" / "plan-harnosand.csv"), "--year", "2013"),
        ("activity", "done", "ung-kontaktuppgifter"),
        ("meeting", "cancel", "council-2012-2", "--reason", "x"),
        ("cycle", "override", "1", "--reason", "x"),
        ("cycle", "deliver", "1", "facts-polisen"),
        ("agreement", "renew", "harnosand-2012-2013", "--to", "2030-12-31"),
        ("agreement", "archive", "harnosand-2012-2013"),
    ]
    for args in writes:
        result = trygg(*args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "arkiverad" in result.stderr, (args, result.stderr)
    for args in (("status",), ("meeting", "list"), ("cycle", "status")):
        assert trygg(*args, env=env).returncode == 0, args  # reading goes on
    assert cli_sweep(env, "2012-12-17T08:00:00+01:00")["sweep"]["notices"] == 0
    assert mails(env) == []


def test_an_archived_agreement_refuses_the_webs_answers(loaded):
    now = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)
    with transaction(loaded) as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        tok = token(johan.id, Action.DONE, act.id, now)
        s.scalar(select(Agreement)).archived_at = now
    with transaction(loaded) as s, pytest.raises(LinkRefused) as refused:
        answer_link(unit_at(s, now), SIGNER, tok, {"note": "klart"})
    assert (refused.value.reason, refused.value.status) == ("archived", 403)
    with transaction(loaded) as s:
        with pytest.raises(LinkRefused):
            view_link(s, SIGNER, tok, now)
        assert activity(s, "ung-kontaktuppgifter").state == "open"
