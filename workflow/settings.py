"""Runtime settings of trygg, read from TRYGG_-prefixed environment variables (or a .env file).

A setting that may hold a secret (a URL with a password, the secret key) is never echoed: its
errors name the setting, not the value, and pydantic is told to hide inputs in its errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.addresses import check_address, envelope_form
from workflow.clock import known_zone

# The embedded default keeps its state under ./var of the working directory: one folder to
# inspect, back up or throw away.
VAR_DIR = Path("var")


class Settings(BaseSettings):
    """Everything that differs between a laptop, CI and production."""

    model_config = SettingsConfigDict(
        env_prefix="TRYGG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # a URL's password must not appear in a validation error
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
    upload_dir: Path = Field(
        default=VAR_DIR / "uploads",
        description="where the desk keeps an uploaded plan between preview and import",
    )
    mail_from: str = Field(
        default="trygg <trygg@localhost>", description="the From of every mail; its domain names Message-IDs"
    )
    bounce_address: str | None = Field(
        default=None,
        description="the envelope sender (MAIL FROM), where late bounces go; default the From address",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, le=600, description="seconds per SMTP operation")
    timezone: str = Field(default="Europe/Stockholm", description="default zone of new agreements")
    base_url: str = Field(default="http://localhost:8000", description="links in mails point here")
    web_bind: str = Field(
        default="127.0.0.1:8000", description="HOST:PORT where `trygg web` and `trygg run` serve the web"
    )
    secret_key: SecretStr = Field(
        default=SecretStr("change-me"), description="signs links in mails; set it in production"
    )
    language: Literal["sv", "en"] = Field(default="sv", description="language of CLI output")
    max_file_mb: float = Field(
        default=10, gt=0, le=1024, description="largest agreement or plan file read, in MB"
    )
    max_plan_rows: int = Field(default=5000, ge=1, le=1_000_000, description="most rows of a plan file")

    _known_zone = field_validator("timezone")(staticmethod(known_zone))

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_parses(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_smtp_url(value.get_secret_value())
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        from sqlalchemy.engine import make_url

        try:
            make_url(value)
        except Exception:  # its message would quote the URL, password and all
            raise SettingError(f"TRYGG_DATABASE_URL is not a database URL ({_NOT_SHOWN})") from None
        return value

    @field_validator("bounce_address")
    @classmethod
    def _bounce_is_an_address(cls, value: str | None) -> str | None:
        return check_address(value) if value else None

    @property
    def envelope_sender(self) -> str:
        """MAIL FROM: TRYGG_BOUNCE_ADDRESS, else the From address."""
        return envelope_form(self.bounce_address or self.mail_from)

    def smtp_config(self) -> SmtpConfig | None:
        """The SMTP server of TRYGG_SMTP_URL (None: write .eml files)."""
        if self.smtp_url is None:
            return None
        return parse_smtp_url(self.smtp_url.get_secret_value(), self.smtp_timeout)

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
            "bounce_address": self.bounce_address,
            "smtp_timeout": str(self.smtp_timeout),
            "timezone": self.timezone,
            "base_url": self.base_url,
            "web_bind": self.web_bind,
            "secret_key": "***",
            "language": self.language,
            "max_file_mb": str(self.max_file_mb),
            "max_plan_rows": str(self.max_plan_rows),
        }


class SettingError(ValueError):
    """A setting that cannot be used; the message names the setting and never shows its value."""


_NOT_SHOWN = "the value is not shown here, as it may hold a password"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own Settings instead).

    Raises SettingError naming each bad TRYGG_ variable (pydantic's message, inputs hidden).
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = [_line(e) for e in exc.errors()]
        raise SettingError("; ".join(lines)) from None


def _line(error) -> str:
    """`TRYGG_NAME: why` — the error's own words (which name the setting already, or not)."""
    reason = error["msg"].removeprefix("Value error, ")
    name = "TRYGG_" + "_".join(map(str, error["loc"])).upper()
    return reason if reason.startswith(name) else f"{name}: {reason}"


@dataclass(frozen=True)
class SmtpConfig:
    """Where mail goes: the parts of TRYGG_SMTP_URL (the password never in a repr)."""

    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    username: str | None
    password: str | None = field(repr=False)
    timeout: float
    clear_text_auth: bool = False  # `?tls=none` said so: AUTH over a plain connection is allowed

    def __post_init__(self) -> None:
        if self.username and self.security == "none" and not self.clear_text_auth:
            raise SettingError(
                f"TRYGG_SMTP_URL: a user and password would travel in clear text to port {self.port}; "
                "use port 587 or ?tls=starttls (STARTTLS), smtps:// (TLS), or say ?tls=none to allow it"
            )

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpConfig:
        return parse_smtp_url(url, timeout)


def parse_smtp_url(url: str, timeout: float = 30.0) -> SmtpConfig:
    """smtp://[user:pass@]host[:port][?tls=starttls|none][&timeout=S] or smtps://… (TLS from the start).

    smtp:// uses STARTTLS on port 587 and plain SMTP otherwise, unless `tls=` says so. Read by
    hand, not by urlsplit: a password may hold `/`, `#` or `?` unescaped (the last `@` ends it),
    and urlsplit's errors quote the text they choke on.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("smtp", "smtps"):
        raise SettingError(f"TRYGG_SMTP_URL must look like smtp://user:password@host:587 ({_NOT_SHOWN})")
    userinfo, at, hostpart = rest.rpartition("@")
    hostport, _, query = hostpart.partition("?")
    host, port = _host_and_port(hostport.rstrip("/"), 465 if scheme == "smtps" else 25)
    params = parse_qs(query, keep_blank_values=True)
    if set(params) - {"tls", "timeout"}:
        raise SettingError("TRYGG_SMTP_URL: only ?tls= and ?timeout= are understood")
    tls = params.get("tls", [None])[0]
    if scheme == "smtps":
        security = "ssl"
    else:
        security = tls or ("starttls" if port == 587 else "none")
        if security not in ("none", "starttls"):
            raise SettingError("TRYGG_SMTP_URL: use tls=starttls or tls=none (or smtps://)")
    user, _, password = userinfo.partition(":")
    try:
        seconds = float(params.get("timeout", [timeout])[0])
    except ValueError:
        raise SettingError("TRYGG_SMTP_URL: ?timeout= is not a number of seconds") from None
    return SmtpConfig(
        host=host,
        port=port,
        security=security,  # type: ignore[arg-type]
        username=unquote(user) if at and user else None,
        password=unquote(password) if at and password else None,
        timeout=seconds,
        clear_text_auth=tls == "none",
    )


def _host_and_port(hostport: str, default_port: int) -> tuple[str, int]:
    host, colon, port = hostport.rpartition(":") if not hostport.endswith("]") else (hostport, "", "")
    if not colon:
        host, port = hostport, ""
    host = host.strip("[]")
    if not host or not all(c.isalnum() or c in ".-_:" for c in host):
        raise SettingError(f"TRYGG_SMTP_URL: no usable host name after the `@` ({_NOT_SHOWN})")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise SettingError(f"TRYGG_SMTP_URL: the port is not a number from 1 to 65535 ({_NOT_SHOWN})")
    return host, int(port) if port else default_port
