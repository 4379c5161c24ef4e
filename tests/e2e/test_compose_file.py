"""The compose file, its image and its .env, checked without a Docker engine.

Each trygg service must run a real `trygg` subcommand with options the command accepts (read
from the Typer app itself), each TRYGG_* variable must be a real setting, and the services
must wait for what they need.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer
from ruamel.yaml import YAML

from tasks.cli import app
from tests.conftest import ROOT
from workflow.settings import Settings

SERVICES = {"postgres", "redis", "migrate", "worker", "scheduler", "mailpit", "web"}
LONG_RUNNING_TRYGG = {"worker", "scheduler"}
SETTINGS = {f"TRYGG_{name.upper()}" for name in Settings.model_fields}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def env_file(path: Path, *, commented: bool) -> dict[str, str]:
    """KEY=value lines of an env file; with `commented`, also the `# KEY=value` examples."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if commented:
            line = line.lstrip("# ")
        m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if m:
            found[m[1]] = m[2]
    return found


DOTENV = env_file(ROOT / ".env.example", commented=False)


def interpolate(value: str) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with .env.example as the .env."""

    def one(m: re.Match) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        if name in DOTENV:
            return DOTENV[name]
        assert op in (":-", "-"), f"${{{name}}} has no default and .env.example does not set it"
        return arg

    return VARIABLE.sub(one, value)


def as_argv(command) -> list[str]:
    argv = command if isinstance(command, list) else shlex.split(command)
    return [interpolate(str(a)) for a in argv]


def parse_trygg(argv: list[str]) -> str:
    """Parse `trygg …` as the real command line would (raises on an unknown command or option);
    returns the subcommand's name, e.g. "db upgrade"."""
    assert argv[0] == "trygg", argv
    command = typer.main.get_command(app)  # Typer's own click: groups are told by get_command
    args, path = argv[1:], []
    while hasattr(command, "get_command"):
        assert args, f"{argv}: a group needs a subcommand"
        parent = command.context_class(command, info_name="trygg")
        sub = command.get_command(parent, args[0])
        assert sub is not None, (
            f"{argv}: `{args[0]}` is not a trygg subcommand ({sorted(command.list_commands(parent))})"
        )
        path.append(args[0])
        command, args = sub, args[1:]
    command.make_context(" ".join(["trygg", *path]), list(args))
    return " ".join(path)


def trygg_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def test_the_topology_is_there(compose):
    assert set(compose["services"]) == SERVICES
    assert set(trygg_services(compose)) == {"migrate", "worker", "scheduler", "web"}


def test_every_trygg_service_runs_a_real_trygg_subcommand(compose):
    commands = {name: parse_trygg(as_argv(s["command"])) for name, s in trygg_services(compose).items()}
    assert commands == {"migrate": "db upgrade", "worker": "worker", "scheduler": "scheduler", "web": "web"}
    with pytest.raises(AssertionError):
        parse_trygg(["trygg", "wroker"])
    with pytest.raises(Exception, match="no-such-option"):
        parse_trygg(["trygg", "worker", "--no-such-option"])


def test_healthchecks_run_trygg_health_and_every_service_restarts(compose):
    for name, service in compose["services"].items():
        assert service.get("restart") == ("no" if name == "migrate" else "unless-stopped"), name
        if name == "migrate":
            continue
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, name
        if name in LONG_RUNNING_TRYGG:
            assert parse_trygg(as_argv(test[1:])) == "health"
            assert service["healthcheck"]["start_period"], name  # a fresh engine has not beaten yet


def test_the_web_is_published_on_this_machine_only_and_checked_on_healthz(compose):
    web = compose["services"]["web"]
    for service in compose["services"].values():
        assert all(str(port).startswith("127.0.0.1:") for port in service.get("ports", []))
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def test_services_wait_for_what_they_need(compose):
    services = compose["services"]
    for name, service in services.items():
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            condition = how["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[needed], (
                    f"{name} waits for {needed} to be healthy: it has no check"
                )
            else:
                assert condition == "service_completed_successfully" and services[needed]["restart"] == "no"
    assert set(services["migrate"]["depends_on"]) == {"postgres"}
    for name in LONG_RUNNING_TRYGG:
        assert {"migrate", "redis"} <= set(services[name]["depends_on"]), name
    # Workers scale (`--scale worker=N`): nothing may pin a single container.
    assert not {"container_name", "ports"} & set(services["worker"])
    assert "replicas" not in (services["scheduler"].get("deploy") or {})


def test_every_trygg_variable_is_a_setting_and_the_settings_accept_the_values(compose):
    for name, service in trygg_services(compose).items():
        env = {k: interpolate(str(v)) for k, v in service["environment"].items()}
        assert set(env) <= SETTINGS, f"{name}: not settings: {set(env) - SETTINGS}"
        assert {"TRYGG_DATABASE_URL", "TRYGG_BROKER_URL", "TRYGG_SMTP_URL"} <= set(env)
        settings = Settings(_env_file=None, **{k.removeprefix("TRYGG_").lower(): v for k, v in env.items()})
        assert settings.database_url.startswith("postgresql+psycopg://") and settings.broker_url.startswith(
            "redis://"
        )
    for example in (ROOT / ".env.example", ROOT / "config" / "trygg.env.example"):
        named = {k for k in env_file(example, commented=True) if k.startswith("TRYGG_")}
        assert named <= SETTINGS, f"{example.name}: not settings: {named - SETTINGS}"
    # The configuration example documents every setting.
    assert {k for k in env_file(ROOT / "config" / "trygg.env.example", commented=True)} >= SETTINGS


def test_every_variable_compose_needs_is_in_the_env_example(compose):
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for m in VARIABLE.finditer(text):
        if m["op"] in (None, ":?", "?"):
            assert m["name"] in DOTENV, f"${{{m['name']}}} must be set in .env.example"


def test_the_image_installs_the_package():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    # From the source for users; from the host's wheelhouse, offline, in CI (WHEELS=1).
    assert re.search(r"pip install \.;", dockerfile)
    assert re.search(r"pip install --no-index --find-links wheelhouse trygg", dockerfile)
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    for needed in ("workflow", "tasks", "web", "config", "templates", "pyproject.toml", "wheelhouse"):
        assert re.search(rf"^COPY .*\b{re.escape(needed)}\b", dockerfile, re.M), needed


def test_ci_override_changes_only_the_images():
    """docker-compose.ci.yml (make compose-test) swaps images and their builds, nothing else."""
    ci = YAML(typ="safe").load((ROOT / "docker-compose.ci.yml").read_text(encoding="utf-8"))
    users = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert set(ci["services"]) <= set(users["services"])
    for name, service in ci["services"].items():
        assert set(service) <= {"image", "build"}, name
    assert set(ci) == {"services"} | {k for k in ci if k.startswith("x-")}
