"""The coordinator's desk (`/agreements/<id>` and below): one blueprint per page, all behind web/desk/door.py."""

from __future__ import annotations

from web.desk import activities, audit, cycle, home, outbox, outgoing, period, requests

BLUEPRINTS = tuple(m.bp for m in (home, cycle, activities, requests, outgoing, outbox, audit, period))
