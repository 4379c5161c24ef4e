"""Settings come from TRYGG_ variables; secrets are never shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.conftest import trygg
from workflow.settings import Settings


def test_settings_read_trygg_variables(monkeypatch):
    monkeypatch.setenv("TRYGG_DATABASE_URL", "postgresql+psycopg://trygg:hemligt@db/trygg")
    monkeypatch.setenv("TRYGG_BROKER_URL", "redis://:brokerpass@redis:6379/0")
    monkeypatch.setenv("TRYGG_SMTP_URL", "smtp://mailer:smtppass@mail:587")
    monkeypatch.setenv("TRYGG_MAIL_DIR", "/srv/mail")
    monkeypatch.setenv("TRYGG_SECRET_KEY", "s3cret-key")
    monkeypatch.setenv("TRYGG_BASE_URL", "https://trygg.example.org")
    settings = Settings()
    assert settings.broker_url == "redis://:brokerpass@redis:6379/0"
    assert str(settings.mail_dir) == "/srv/mail"
    assert settings.timezone == "Europe/Stockholm"
    shown = repr(settings) + str(settings.redacted())
    for secret in ("hemligt", "brokerpass", "smtppass", "s3cret-key"):
        assert secret not in shown


def test_an_unknown_time_zone_is_refused(monkeypatch):
    monkeypatch.setenv("TRYGG_TIMEZONE", "Europe/Härnösand")
    with pytest.raises(ValidationError, match="time zone"):
        Settings()


def test_db_upgrade_does_not_print_the_database_password(tmp_path):
    result = trygg(
        "db",
        "upgrade",
        env={"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "TRYGG_SECRET_KEY": "xyzzy-secret"},
    )
    assert result.returncode == 0, result.stderr
    assert "xyzzy-secret" not in result.stdout + result.stderr
