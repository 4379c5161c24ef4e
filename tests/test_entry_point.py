"""The real `trygg` process: the console script and `python -m tasks.cli` start, exit with the
command's code and keep tracebacks from the user. Every other CLI test runs in-process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import HARNOSAND, ROOT, spawn_trygg

pytestmark = pytest.mark.slow


def test_python_m_tasks_cli_upgrades_loads_and_reports_as_json(tmp_path):
    env = {"TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}", "TRYGG_LANGUAGE": "sv"}
    refused = spawn_trygg("status", env=env)
    assert refused.returncode == 3, refused.stderr
    assert "trygg db upgrade" in refused.stderr and "Traceback" not in refused.stderr
    assert spawn_trygg("db", "upgrade", env=env).returncode == 0
    loaded = spawn_trygg("load", str(HARNOSAND), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "Inläst: harnosand-2012-2013" in loaded.stdout
    status = spawn_trygg("status", "--json", env=env)
    (agreement,) = json.loads(status.stdout)["agreements"]
    assert agreement["id"] == "harnosand-2012-2013" and len(agreement["areas"]) == 5


def test_the_console_script_is_installed_and_refuses_a_broken_file_with_exit_2(tmp_path):
    script = Path(sys.executable).parent / "trygg"
    assert script.exists(), f"no console script beside {sys.executable}: is the package installed?"
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        HARNOSAND.read_text(encoding="utf-8").replace("timezone: Europe/Stockholm", "timezone: 7")
    )
    result = subprocess.run(
        [str(script), "check", str(broken)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{broken}:" in result.stderr and "Traceback" not in result.stderr
