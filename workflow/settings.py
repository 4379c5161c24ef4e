"""Runtime settings of trygg, read from TRYGG_-prefixed environment variables (or a .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.clock import known_zone

# The embedded default keeps its state under ./var of the working directory: one folder to
# inspect, back up or throw away.
VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(
        env_prefix="TRYGG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'trygg.db'}",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (redis://…); unset runs the same task functions in-process",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:password@host:port (or smtps://); unset writes .eml files",
    )
    mail_dir: Path = Field(default=VAR_DIR / "mail", description="where the file transport writes .eml")
    mail_from: str = Field(
        default="trygg <trygg@localhost>", description="the From of every mail; its domain names Message-IDs"
    )
    smtp_timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per SMTP operation")
    timezone: str = Field(default="Europe/Stockholm", description="default zone of new agreements")
    base_url: str = Field(default="http://localhost:8000", description="links in mails point here")
    secret_key: SecretStr = Field(
        default=SecretStr("change-me"), description="signs links in mails; set it in production"
    )
    language: Literal["sv", "en"] = Field(default="sv", description="language of CLI output")
    max_file_mb: float = Field(
        default=10, gt=0, le=1024, description="largest agreement or plan file read, in MB"
    )
    max_plan_rows: int = Field(default=5000, ge=1, le=1_000_000, description="most rows of a plan file")

    _known_zone = field_validator("timezone")(staticmethod(known_zone))

    def __repr_args__(self):
        shown = self.redacted()
        for name, value in super().__repr_args__():
            yield name, shown.get(name, value) if name in ("database_url", "broker_url") else value

    def redacted(self) -> dict[str, str | None]:
        """The settings as shown to a person: secrets and passwords in URLs masked."""
        from sqlalchemy.engine import make_url

        def hide_password(url: str | None) -> str | None:
            if not url:
                return url
            try:
                return make_url(url).render_as_string(hide_password=True)
            except Exception:  # not an SQLAlchemy-style URL: show nothing of it
                return "***"

        smtp = self.smtp_url.get_secret_value() if self.smtp_url else None
        return {
            "database_url": hide_password(self.database_url),
            "broker_url": hide_password(self.broker_url),
            "smtp_url": hide_password(smtp),
            "mail_dir": str(self.mail_dir),
            "mail_from": self.mail_from,
            "smtp_timeout": str(self.smtp_timeout),
            "timezone": self.timezone,
            "base_url": self.base_url,
            "secret_key": "***",
            "language": self.language,
            "max_file_mb": str(self.max_file_mb),
            "max_plan_rows": str(self.max_plan_rows),
        }


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own Settings instead)."""
    return Settings()
