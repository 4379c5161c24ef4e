"""Which tests one xdist worker runs one after the other (`--dist loadgroup`), by file.

pytest-xdist's own `xdist_group` mark no longer groups anything under pytest 9.2 (it renames node
ids in a way pytest now ignores: pytest-dev/pytest-xdist#1386), and the main process sees only
node ids, so the groups are written here, by path, and this scheduler applies them.
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

# Node id prefix -> group. Everything else is spread test by test.
GROUPS = {
    # Each starts workers, a scheduler and servers of its own; the recovery times of the
    # reliability table mean something only when no other topology runs beside it.
    "tests/e2e/": "e2e",
    # Both empty the tests' Redis database (TRYGG_TEST_REDIS_URL) before and after.
    "tests/test_engine_integration.py": "redis",
    # The benchmarks share their own Redis database.
    "tests/test_bench_smoke.py": "bench",
    # A module-scoped scenario that should be made once: two simulated years, the mails of
    # 2012 in each language, a built wheel.
    "tests/test_simulation.py": "simulation",
    "tests/test_email_snapshots.py": "email-snapshots",
    "tests/test_mail_words.py": "mail-words",
    "tests/test_packaging.py": "packaging",
    # One Chromium at a time (Playwright's sync API allows one per thread), module after module,
    # and a web server each beside it on two cores.
    "tests/test_web_browser.py": "browser",
    "tests/test_desk_flows.py": "browser",
    "tests/test_desk_browser.py": "browser",
    "tests/test_desk_part2_browser.py": "browser",
    "tests/test_overview_browser.py": "browser",
    # Its table of measured refusals (TRYGG_HOSTILE_REPORT) is gathered in one module's run.
    "tests/test_hostile_input.py": "hostile-input",
}


def group_of(nodeid: str) -> str | None:
    return next((group for prefix, group in GROUPS.items() if nodeid.startswith(prefix)), None)


class FileGroupScheduling(LoadGroupScheduling):
    """`--dist loadgroup` with the groups of GROUPS (and xdist's own, where they still work)."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid) or super()._split_scope(nodeid)


class Plugin:
    def pytest_xdist_make_scheduler(self, config, log):
        if config.getvalue("dist") == "loadgroup":
            return FileGroupScheduling(config, log)
        return None
