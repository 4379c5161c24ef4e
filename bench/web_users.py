"""The locustfile of bench/web.py: signed-in users of many agreements, 1–3 s between pages.

Each user takes a signed session cookie from the file named by TRYGG_BENCH_USERS (made by bench/web.py
with the app's key, not through the rate-limited sign-in) and visits the pages of their role in turn,
one page and then 1–3 s of reading before the next (a person reads a page before opening another).
A page that answers 404 (a desk page not built yet) is counted under its own name, not as a failure.
"""

from __future__ import annotations

import itertools
import json
import os

from locust import FastHttpUser, between, task

USERS = json.loads(open(os.environ["TRYGG_BENCH_USERS"], encoding="utf-8").read())
_next = itertools.count()


class SignedInUser(FastHttpUser):
    """FastHttpUser (geventhttpclient), not HttpUser (requests): the users share the server's two
    cores, and requests' own cost per page was a good part of the machine."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        me = USERS[next(_next) % len(USERS)]
        self.role, self.key = me["role"], me["agreement"]
        self.cookie = {"Cookie": f"trygg_session={me['cookie']}"}
        self.pages = ["/me"]
        if self.role in ("management", "coordinator", "admin"):
            self.pages.append("/overview")
        if self.role == "coordinator":
            self.pages += [f"/agreements/{self.key}", f"/agreements/{self.key}/activities"]
        self.turn = itertools.cycle(self.pages)

    @task
    def visit(self) -> None:
        page = next(self.turn)
        name = _name(page, self.role)
        with self.client.get(
            page, name=name, headers=self.cookie, catch_response=True, allow_redirects=False
        ) as answer:
            if answer.status_code == 404:
                answer.request_meta["name"] = name + " (404: not there yet)"
                answer.success()
            elif answer.status_code != 200:
                answer.failure(f"{answer.status_code}")


def _name(page: str, role: str) -> str:
    if page == "/overview":
        return f"/overview ({role})"
    return page.replace(page.split("/")[2], "<id>") if page.startswith("/agreements/") else page
