"""The links of a mail: which actions each kind offers, signed for its person, deterministic per mail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import LOAD_INSTANT, load_harnosand, trygg
from tests.mail_links import BASE_URL, LINKS, SECRET
from workflow.agreement.models import Agreement
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import SIGN_IN_VALID, Action, LinkSigner, TokenError
from workflow.links.urls import LinkSettings, actions_for, item_links, link_expiry, my_tasks_url
from workflow.outbox.delivery import prepare
from workflow.outbox.kinds import KINDS
from workflow.outbox.models import Mail

MAILED = datetime(2012, 12, 17, 7, 0, tzinfo=UTC)
EXPIRES = MAILED + timedelta(days=30)


def links_of(rule: str = "reminder", *, subject_type: str = "activity", mail_id: int = 7, **payload):
    return item_links(
        LINKS,
        rule=rule,
        subject_type=subject_type,
        subject_id=42,
        payload=payload,
        person_id=3,
        mail_id=mail_id,
        expires_at=EXPIRES,
    )


def token_of(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE_URL and parts.path.startswith("/l/")
    return parts.path.removeprefix("/l/")


def test_a_link_carries_its_person_action_item_and_expiry():
    (done, progress, extend) = links_of()
    assert [done["action"], progress["action"], extend["action"]] == ["done", "progress", "extend"]
    grant = LINKS.signer.verify(token_of(done["url"]), MAILED)
    assert (grant.person_id, grant.action, grant.subject_id) == (3, Action.DONE, 42)
    assert grant.subject_type == "activity"
    assert grant.expires_at == EXPIRES


def test_a_changed_character_makes_the_link_tampered():
    token = token_of(links_of()[0]["url"])
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(TokenError) as refused:
        LINKS.signer.verify(forged, MAILED)
    assert refused.value.reason == "tampered"


def test_a_link_signed_with_another_key_is_tampered():
    other = LinkSettings(BASE_URL, LinkSigner("another-secret-of-at-least-thirty-two-chars"))
    token = token_of(
        item_links(
            other,
            rule="escalation",
            subject_type="activity",
            subject_id=42,
            payload={},
            person_id=3,
            mail_id=7,
            expires_at=EXPIRES,
        )[0]["url"]
    )
    with pytest.raises(TokenError, match="tampered"):
        LINKS.signer.verify(token, MAILED)


def test_a_link_works_until_its_expiry_and_not_from_then_on():
    token = token_of(links_of()[0]["url"])
    assert LINKS.signer.verify(token, EXPIRES - timedelta(seconds=1)).action == Action.DONE
    with pytest.raises(TokenError) as refused:
        LINKS.signer.verify(token, EXPIRES)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize(
    ("rule", "payload", "expected"),
    [
        ("reminder", {}, ["done", "progress", "extend"]),
        ("reminder", {"target": "event"}, ["done", "progress", "extend"]),
        ("reminder", {"target": "follow_up"}, ["progress"]),
        ("overdue", {}, ["done", "progress", "extend"]),
        ("escalation", {}, ["ack"]),
        ("agenda_call", {}, ["propose"]),
        ("invitation", {}, ["attend", "decline"]),
        ("checkin_invitation", {}, ["attend", "decline"]),
        ("meeting_update", {}, ["attend", "decline"]),
        ("minutes_request", {}, ["minutes"]),
        ("extension_request", {}, ["approve", "refuse"]),
        ("sign_in", {}, ["sign_in"]),
    ],
)
def test_each_kind_offers_the_actions_of_the_issues_table(rule, payload, expected):
    assert [str(a) for a in actions_for(rule, payload)] == expected


@pytest.mark.parametrize(
    "kind", ["cancellation", "minutes", "checkin_report", "evaluation", "delivery_failure"]
)
def test_a_mail_that_only_informs_has_no_item_links(kind):
    assert kind in KINDS
    assert actions_for(kind, {}) == ()
    assert links_of(kind) == []


def test_the_subject_of_each_kind_is_the_item_its_actions_act_on():
    meeting = links_of("invitation", subject_type="meeting")
    assert [LINKS.signer.verify(token_of(x["url"]), MAILED).subject_type for x in meeting] == ["meeting"] * 2
    request = links_of("extension_request", subject_type="extension_request")
    assert [x["action"] for x in request] == ["approve", "refuse"]
    sign_in = links_of("sign_in", subject_type="person")
    assert LINKS.signer.verify(token_of(sign_in[0]["url"]), MAILED).subject_type == "person"


def test_a_notice_about_something_else_gets_no_link_rather_than_a_wrong_one():
    assert links_of("invitation", subject_type="activity") == []


def test_the_same_mail_gives_the_same_links_and_another_mail_other_ones():
    assert links_of(mail_id=7) == links_of(mail_id=7)
    first, again = links_of(mail_id=7)[0], links_of(mail_id=8)[0]
    assert first != again
    jti = [LINKS.signer.verify(token_of(x["url"]), MAILED).jti for x in (first, again)]
    assert jti[0] != jti[1]


def test_a_sign_in_link_lasts_fifteen_minutes_and_the_others_the_agreements_days():
    assert link_expiry("sign_in", MAILED, 30) == MAILED + SIGN_IN_VALID == MAILED + timedelta(minutes=15)
    assert link_expiry("reminder", MAILED, 30) == MAILED + timedelta(days=30)
    assert link_expiry("invitation", MAILED, 7) == MAILED + timedelta(days=7)


def test_the_base_url_is_written_without_a_trailing_slash():
    settings = LinkSettings("https://trygg.example.org/", LinkSigner(SECRET))
    assert settings.base_url == "https://trygg.example.org"
    assert my_tasks_url(settings.base_url) == "https://trygg.example.org/me"
    assert my_tasks_url("https://example.org/trygg/") == "https://example.org/trygg/me"
    url = item_links(
        settings,
        rule="escalation",
        subject_type="activity",
        subject_id=1,
        payload={},
        person_id=1,
        mail_id=1,
        expires_at=EXPIRES,
    )[0]["url"]
    assert url.startswith("https://trygg.example.org/l/") and "//l/" not in url


# The real builder: a sweep of the Härnösand agreement, its mails prepared as delivery prepares them.
SWEEP_AT = datetime(2012, 12, 17, 8, 0, tzinfo=UTC)


@pytest.fixture
def swept(request, sessions):
    load_harnosand(request, LOAD_INSTANT)
    sweep(sessions, SWEEP_AT)
    return sessions


def prepared_links(sessions, now: datetime, links: LinkSettings = LINKS) -> dict[int, list]:
    with sessions() as session:
        ids = session.scalars(select(Mail.id).order_by(Mail.id)).all()
        letters = {
            mail_id: prepare(session, mail_id, now, "trygg <trygg@example.org>", links) for mail_id in ids
        }
    return {mail_id: letter.rendered.text for mail_id, letter in letters.items() if letter is not None}


def test_a_mail_rendered_again_later_carries_the_same_links(swept):
    first = prepared_links(swept, SWEEP_AT)
    assert first and any("/l/" in text for text in first.values())
    assert prepared_links(swept, SWEEP_AT + timedelta(hours=6)) == first  # a retry the same day
    other_key = LinkSettings(BASE_URL, LinkSigner("another-secret-of-at-least-thirty-two-chars"))
    assert prepared_links(swept, SWEEP_AT, other_key) != first


def test_the_agreements_expiry_days_set_how_long_a_mailed_link_works(swept):
    with transaction(swept) as session:
        session.scalars(select(Agreement)).one().links_config = {"expiry_days": 7}
    with swept() as session:
        mail = session.scalars(select(Mail).order_by(Mail.id)).first()
        letter = prepare(session, mail.id, SWEEP_AT, "trygg <trygg@example.org>", LINKS)
        created = mail.created_at
    url = next(word for word in letter.rendered.text.split() if "/l/" in word)
    grant = LINKS.signer.verify(token_of(url), SWEEP_AT)
    assert grant.expires_at == created + timedelta(days=7)
    assert f"{BASE_URL}/me" in letter.rendered.text and f'href="{BASE_URL}/me"' in letter.rendered.html


# The commands that mail without serving the web warn once about a weak key, and never show it.
@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "TRYGG_SECRET_KEY is not set"),
        ("change-me", "TRYGG_SECRET_KEY is the default change-me"),
        ("short-but-secret-x9", "TRYGG_SECRET_KEY is shorter than 32 characters"),
    ],
)
def test_a_sweep_with_a_weak_key_warns_once_without_showing_it(tmp_path, key, why):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}",
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_LANGUAGE": "en",
        "TRYGG_SECRET_KEY": key,
    }
    assert trygg("db", "upgrade", env=env).returncode == 0
    result = trygg("sweep", "--now", "2012-12-17T08:00:00+01:00", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count(why) == 1 and "forge" in result.stderr
    assert json.loads(result.stdout)["dry_run"] is False  # the warning is not in the JSON
    if key not in ("", "change-me"):  # the default is named; a real (weak) key never is
        assert key not in result.stderr + result.stdout


def test_a_sweep_with_a_strong_key_says_nothing_of_it(tmp_path):
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}",
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_SECRET_KEY": SECRET,
    }
    assert trygg("db", "upgrade", env=env).returncode == 0
    result = trygg("sweep", "--now", "2012-12-17T08:00:00+01:00", env=env)
    assert result.returncode == 0 and "TRYGG_SECRET_KEY" not in result.stderr
