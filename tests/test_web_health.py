"""GET /healthz: 200 when the database answers, 503 when it does not — never its address or password."""

from __future__ import annotations

from web.app import create_app
from workflow.settings import Settings

KEY = "k" * 48


def test_healthz_is_ok_when_the_database_answers(db_url, sessions):
    client = create_app(Settings(database_url=db_url, secret_key=KEY), sessions=sessions).test_client()
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json["status"] == "ok"


def test_healthz_is_unavailable_when_the_database_is_gone():
    # An unreachable PostgreSQL (nothing listens on port 1): the same answer as a stopped server,
    # without stopping the shared one.
    url = "postgresql+psycopg://trygg:s3cret-pw@127.0.0.1:1/trygg?connect_timeout=2"
    client = create_app(Settings(database_url=url, secret_key=KEY)).test_client()
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json["status"] == "unavailable"
    assert "s3cret-pw" not in answer.text and "127.0.0.1" not in answer.text
