"""`pip install .` alone gives a working trygg: templates, agreements and migrations ship inside."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (path,) = out.glob("trygg-*.whl")
    return path


def test_the_wheel_carries_agreements_templates_and_migrations(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "workflow/_resources/config/agreements/harnosand-2012-2013.yaml" in names
    assert any(n.startswith("workflow/_resources/templates/emails/") for n in names)
    assert "workflow/migrations/script.py.mako" in names
    assert {f"workflow/locale/{lang}/LC_MESSAGES/messages.po" for lang in ("sv", "en")} <= set(names)
    assert any(n.startswith("workflow/migrations/versions/0001") for n in names)
    assert any(n.endswith("entry_points.txt") for n in names)
    # The web ships beside workflow/ and tasks/, with its pages and its stylesheet.
    assert {"web/app.py", "workflow/_resources/templates/web/base.html"} <= set(names)
    assert "workflow/_resources/templates/web/static/trygg.css" in names


def test_the_installed_package_works_away_from_the_sources(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "TRYGG_DATABASE_URL": f"sqlite:///{elsewhere}/t.db"}
    code = (
        "import workflow, sys; assert workflow.__file__.startswith(sys.argv[1]), workflow.__file__;"
        "from tasks.cli import main; sys.argv = ['trygg'] + sys.argv[2:]; main()"
    )

    def trygg(*args):
        return subprocess.run(
            [sys.executable, "-c", code, str(target), *args],
            capture_output=True,
            text=True,
            cwd=elsewhere,
            env=env,
            timeout=120,
        )

    assert trygg("db", "upgrade").returncode == 0
    loaded = trygg("load", "harnosand-2012-2013")
    assert loaded.returncode == 0, loaded.stderr
    assert "harnosand-2012-2013" in trygg("status", "--json").stdout
    # The web's pages render from the installed package alone.
    page = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, web; assert web.__file__.startswith(sys.argv[1]), web.__file__; "
            "from web.app import create_app; c = create_app().test_client(); r = c.get('/sign-in'); "
            "print(r.status_code, c.get('/healthz').status_code, 'Logga in' in r.text)",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=120,
    )
    assert page.stdout.split() == ["200", "200", "True"], page.stderr
