"""`trygg status` tells the truth (an id column; overdue rows with the ladder's stage and next step) and
`trygg meeting list` shows whole ids, however narrow the terminal."""

from __future__ import annotations

import json

import pytest

from tests.conftest import trygg


@pytest.fixture
def env(cli_loaded, tmp_path) -> dict[str, str]:
    return {
        "TRYGG_DATABASE_URL": cli_loaded,
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "TRYGG_LANGUAGE": "en",
        "COLUMNS": "160",
    }


def sweeps(env, *days: str) -> None:
    for day in days:
        result = trygg("sweep", "--now", f"{day}T08:00:00+01:00", env=env)
        assert result.returncode == 0, result.stderr


def test_status_shows_each_activity_id_and_an_overdue_row_with_its_stage(env):
    sweeps(env, "2012-12-17", "2013-01-02", "2013-01-09")
    shown = trygg("status", env=env).stdout
    row = next(line for line in shown.splitlines() if "ung-kontaktuppgifter" in line)
    assert "overdue since 2012-12-29" in row
    assert "told: the coordinator" in shown and "(2013-01-08)" in shown
    assert "cen-krogtillsyn" in shown  # activities without a deadline have their id too


def test_status_json_names_the_stage_reached_and_the_next_step(env):
    sweeps(env, "2012-12-17", "2013-01-02", "2013-01-09")
    data = json.loads(trygg("status", "--json", env=env).stdout)
    agreement = data["agreements"][0]
    acts = {a["id"]: a for area in agreement["areas"] for a in area["activities"]}
    act = acts["ung-kontaktuppgifter"]
    assert act["status"] == "overdue" and act["overdue_since"] == "2012-12-29"
    assert (act["stage"]["to"], act["stage"]["after"]) == ("coordinator", 5)
    # Today the agreement's period and grace are long over: the ladder does not go on.
    assert agreement["ended"] and act["next_step"] is None
    assert acts["cen-krogtillsyn"]["status"] == "ongoing"


@pytest.mark.parametrize("columns", ["40", "60", "200"])
def test_meeting_list_never_cuts_an_id(env, columns):
    ids = [m["id"] for m in json.loads(trygg("meeting", "list", "--json", env=env).stdout)["meetings"]]
    shown = trygg("meeting", "list", env={**env, "COLUMNS": columns}).stdout
    assert "…" not in shown.split("\n", 3)[-1].split("┃")[0]
    first_column = "".join(line.split("│")[1].strip() for line in shown.splitlines() if line.startswith("│"))
    for key in ids:
        assert key in first_column
