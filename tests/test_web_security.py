"""The web's security over plain HTTP: GETs change nothing, links work once, CSRF, headers, no open redirect."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import HARNOSAND, load_file
from tests.web_world import NOW, World, build, csrf_of, dump, free_port, wait_for
from web.logs import redact
from workflow.clock import FixedClock
from workflow.links.tokens import Action


@pytest.fixture
def world(tmp_path, sqlite_templates) -> World:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    sqlite_templates.copy("harnosand", lambda u: load_file(_sessions(u), HARNOSAND), url)
    from workflow.db import make_engine, session_factory

    sessions = session_factory(make_engine(url))
    return build(sessions, url)


def _sessions(url):
    from workflow.db import make_engine, session_factory

    return session_factory(make_engine(url))


@pytest.mark.parametrize("action", list(Action))
def test_a_get_and_a_head_of_every_link_change_nothing(world, action):
    client = world.app().test_client()
    before = dump(world.url)
    page = client.get(f"/l/{world.tokens[action]}")
    head = client.head(f"/l/{world.tokens[action]}")
    assert page.status_code == 200, page.text
    assert head.status_code == 200
    assert page.text.count("<main") == 1 and page.text.count("<h1") == 1
    assert dump(world.url) == before


def test_a_link_works_once_and_then_shows_what_was_done_by_whom_and_when(world):
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.DONE]}"
    token = csrf_of(client.get(link).text)
    done = client.post(link, data={"csrf_token": token, "note": "klart i tid"})
    assert done.status_code == 303
    assert "Tack" in client.get(link).text  # the one who just answered is thanked …
    assert "Redan gjort" in client.get(link).text  # … a later visit says it is done
    after = dump(world.url)
    replay = client.post(link, data={"csrf_token": token, "note": "igen"})
    assert replay.status_code == 409
    assert dump(world.url) == after
    again = client.get(link)
    assert again.status_code == 200
    assert "klart i tid" in again.text and "1 mars 2012 kl." in again.text


def test_a_post_without_csrf_is_refused_with_400_and_changes_nothing(world):
    client = world.app().test_client()
    before = dump(world.url)
    response = client.post(f"/l/{world.tokens[Action.DONE]}", data={"note": "x"})
    assert response.status_code == 400
    assert "<h1" in response.text
    assert dump(world.url) == before


@pytest.mark.parametrize(
    ("mangle", "status"),
    [
        (lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), 400),
        (lambda t: t + "x", 400),
        (lambda t: "garbage", 400),
    ],
)
def test_a_tampered_link_is_refused_on_get_and_post(world, mangle, status):
    client = world.app().test_client()
    good = f"/l/{world.tokens[Action.DONE]}"
    csrf = csrf_of(client.get(good).text)
    before = dump(world.url)
    bad = f"/l/{mangle(world.tokens[Action.DONE])}"
    assert client.get(bad).status_code == status
    assert client.post(bad, data={"csrf_token": csrf}).status_code == status
    assert dump(world.url) == before


def test_an_expired_link_is_refused_with_410(world):
    link = f"/l/{world.tokens[Action.DONE]}"
    client = world.app().test_client()
    csrf = csrf_of(client.get(link).text)
    later = world.app(clock=FixedClock(NOW + timedelta(days=31))).test_client()
    with client.session_transaction() as before_session, later.session_transaction() as after_session:
        after_session.update(before_session)  # the same browser, a month later
    before = dump(world.url)
    page = later.get(link)
    assert page.status_code == 410
    assert "/me" in page.text  # what to do next: My tasks
    assert later.post(link, data={"csrf_token": csrf}).status_code == 410
    assert dump(world.url) == before


def test_another_persons_link_is_refused_with_403_for_a_signed_in_session(world):
    client = world.app().test_client()
    with client.session_transaction() as session:
        session["email"] = "somebody.else@example.org"
    link = f"/l/{world.tokens[Action.DONE]}"
    before = dump(world.url)
    assert client.get(link).status_code == 403
    assert dump(world.url) == before


def test_a_link_about_nothing_is_refused_with_404(world):
    token = world.signer.sign(world.people[Action.DONE], Action.DONE, 999_999, NOW + timedelta(days=1))
    assert world.app().test_client().get(f"/l/{token}").status_code == 404


def test_every_page_carries_the_security_headers_and_token_pages_are_not_stored(world):
    client = world.app().test_client()
    for path in (f"/l/{world.tokens[Action.DONE]}", "/sign-in", "/healthz", "/l/bad"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/l/{world.tokens[Action.DONE]}").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(world):
    client = world.app().test_client()
    for action in Action:
        html = client.get(f"/l/{world.tokens[action]}").text
        assert "<script>" not in html and " style=" not in html and "<style" not in html


def test_signing_in_by_the_mailed_link_opens_my_tasks(world):
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.SIGN_IN]}"
    page = client.get(link)
    assert client.get("/me").status_code == 302  # not yet signed in
    signed = client.post(link, data={"csrf_token": csrf_of(page.text)})
    assert signed.status_code == 303 and signed.headers["Location"].endswith("/me")
    me = client.get("/me")
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_session_cookie_is_secure_when_the_base_url_is_https(world):
    client = world.app(base_url="https://trygg.example.org").test_client()
    link = f"/l/{world.tokens[Action.SIGN_IN]}"
    signed = client.post(link, data={"csrf_token": csrf_of(client.get(link).text)})
    assert "Secure" in signed.headers["Set-Cookie"]


def test_sign_in_answers_the_same_for_a_known_and_an_unknown_address(world):
    client = world.app().test_client()
    csrf = csrf_of(client.get("/sign-in").text)
    from workflow.agreement.models import Person

    with world.sessions() as session:
        known = session.get(Person, world.people[Action.DONE]).email
    first = client.post("/sign-in", data={"csrf_token": csrf, "email": known})
    second = client.post("/sign-in", data={"csrf_token": csrf, "email": "nobody@example.org"})
    assert first.status_code == second.status_code == 200
    assert first.text.replace(known, "X") == second.text.replace("nobody@example.org", "X")


def test_sign_in_is_rate_limited_per_address(world):
    client = world.app().test_client()
    csrf = csrf_of(client.get("/sign-in").text)
    codes = [
        client.post("/sign-in", data={"csrf_token": csrf, "email": "a@example.org"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [200] * 5 and codes[-1] == 429


def test_my_tasks_redirects_to_sign_in_and_next_is_never_another_site(world):
    client = world.app().test_client()
    assert client.get("/me").headers["Location"].startswith("/sign-in")
    csrf = csrf_of(client.get("/sign-in").text)
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        answer = client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": evil})
        assert answer.headers["Location"] == "/"


def test_signing_in_brings_the_person_back_to_the_page_they_asked_for(world):
    """A desk link from a mail, opened signed out: sign in, open the mailed link in the same browser,
    and the desk page opens, not Mina uppgifter. A next that is not this site's is never followed."""
    from workflow.agreement.models import Person

    person = world.people[Action.SIGN_IN]
    with world.sessions() as session:
        address = session.get(Person, person).email

    def signed_in_after(next_: str | None) -> str:
        client = world.app().test_client()
        form = client.get("/sign-in" + (f"?next={next_}" if next_ else "")).text
        asked = {"csrf_token": csrf_of(form), "email": address, "next": next_ or ""}
        assert client.post("/sign-in", data=asked).status_code == 200
        token = world.signer.sign(person, Action.SIGN_IN, person, NOW + timedelta(minutes=15))
        link = f"/l/{token}"
        answer = client.post(link, data={"csrf_token": csrf_of(client.get(link).text)})
        assert answer.status_code == 303
        with client.session_transaction() as kept:
            assert "next" not in kept and kept["email"] == address  # a fresh session, used once
        return answer.headers["Location"]

    form = world.app().test_client().get("/sign-in?next=/agreements/harnosand/activities").text
    assert 'name="next" value="/agreements/harnosand/activities"' in form
    assert signed_in_after("/agreements/harnosand/activities") == "/agreements/harnosand/activities"
    assert signed_in_after(None) == "/me"
    assert signed_in_after("//evil.example/x") == "/me"


def test_tokens_are_redacted_from_log_lines():
    line = '127.0.0.1 "GET /l/WzEsImRvbmUiXQ.abc-_ HTTP/1.1" 200 "GET /calendar/Wz.x.ics?x=1"'
    assert redact(line) == '127.0.0.1 "GET /l/[redacted] HTTP/1.1" 200 "GET /calendar/[redacted].ics?x=1"'


# --- the real `trygg web` process ---------------------------------------------------------------


@pytest.mark.slow
def test_the_server_log_holds_no_token(world, tmp_path):
    import os
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.conftest import ROOT
    from tests.web_world import KEY

    port = free_port()
    env = {
        **os.environ,
        "TRYGG_DATABASE_URL": world.url,
        "TRYGG_SECRET_KEY": KEY,
        "TRYGG_WEB_BIND": f"127.0.0.1:{port}",
    }
    log = (tmp_path / "web.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.cli", "web"], env=env, cwd=ROOT, stdout=log, stderr=log
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc)
        for token in [*world.tokens.values(), "tampered" + world.tokens[Action.DONE]]:
            for path in (f"/l/{token}", f"/calendar/{token}.ics"):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
                except urllib.error.HTTPError:
                    pass  # a refused link is logged too
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    text = (tmp_path / "web.log").read_text()
    assert "GET /l/[redacted]" in text and "/calendar/[redacted].ics" in text
    for token in world.tokens.values():
        assert token not in text and token.split(".")[0] not in text


@pytest.mark.slow
@pytest.mark.parametrize("secret", ["change-me", "", "short"])
def test_trygg_web_and_trygg_run_refuse_a_weak_secret_with_exit_3(secret, tmp_path):
    from tests.conftest import spawn_trygg

    env = {"TRYGG_SECRET_KEY": secret, "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for command in ("web", "run"):
        done = spawn_trygg(command, env=env)
        assert done.returncode == 3, done.stderr
        assert "secrets.token_urlsafe(48)" in done.stderr


@pytest.mark.slow
def test_trygg_web_starts_with_the_default_secret_given_demo(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, spawn_trygg

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert spawn_trygg("db", "upgrade", env={"TRYGG_DATABASE_URL": url}).returncode == 0
    port = free_port()
    env = {**os.environ, "TRYGG_DATABASE_URL": url, "TRYGG_SECRET_KEY": "change-me"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tasks.cli", "web", "--demo", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_flasks_own_log_redacts_a_token_path(world, caplog):
    app = world.app()
    token = world.tokens[Action.DONE]
    with caplog.at_level("ERROR", logger=app.logger.name):
        app.logger.error("Exception on /l/%s [POST]", token)
        app.logger.error(f"Exception on /calendar/{token}.ics [GET]")
    assert token not in caplog.text and caplog.text.count("[redacted]") == 2
