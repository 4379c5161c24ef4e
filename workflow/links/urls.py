"""The links of a mail: which actions an item offers its reader, each a signed `{base}/l/<token>`.

Pure: the base URL, a signer, the notice and the instants in, the ordered links out. A mailed
link's nonce is `mail-<mail id>` and its expiry counts from the mail's creation, so rendering the
same mail again (a retry, a dry run) gives the same links.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from workflow.links.tokens import SIGN_IN_VALID, SUBJECT_OF, Action, LinkSigner

# What a mail of each rule lets its reader do, in the order the mail shows them.
ACTIONS_OF_RULE: dict[str, tuple[Action, ...]] = {
    "reminder": (Action.DONE, Action.PROGRESS, Action.EXTEND),
    "overdue": (Action.DONE, Action.PROGRESS, Action.EXTEND),
    "escalation": (Action.ACK,),
    "agenda_call": (Action.PROPOSE,),
    "invitation": (Action.ATTEND, Action.DECLINE),
    "checkin_invitation": (Action.ATTEND, Action.DECLINE),
    "meeting_update": (Action.ATTEND, Action.DECLINE),
    "minutes_request": (Action.MINUTES,),
    "extension_request": (Action.APPROVE, Action.REFUSE),
    "sign_in": (Action.SIGN_IN,),
}

# A recurring follow-up (the monthly report) is never "done": its reader reports how it stands.
FOLLOW_UP_ACTIONS: tuple[Action, ...] = (Action.PROGRESS,)


@dataclass(frozen=True)
class LinkSettings:
    """Where mailed links point (TRYGG_BASE_URL, no trailing slash) and the key that signs them."""

    base_url: str
    signer: LinkSigner

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))


def actions_for(rule: str, payload: Mapping[str, Any]) -> tuple[Action, ...]:
    """The actions a notice of `rule` offers (none for a mail that only informs)."""
    if rule == "reminder" and payload.get("target") == "follow_up":
        return FOLLOW_UP_ACTIONS
    if payload.get("organizer_copy") and Action.ATTEND in ACTIONS_OF_RULE.get(rule, ()):
        return ()  # the one who convenes is not asked whether she comes to her own meeting
    return ACTIONS_OF_RULE.get(rule, ())


def link_expiry(rule: str, mail_at: datetime, expiry_days: int) -> datetime:
    """When a mail's links stop working: a sign-in link soon, the others after the agreement's days."""
    if rule == "sign_in":
        return mail_at + SIGN_IN_VALID
    return mail_at + timedelta(days=expiry_days)


def link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/l/{token}"


def my_tasks_url(base_url: str) -> str:
    """Mina uppgifter: the page every mail ends with."""
    return f"{base_url.rstrip('/')}/me"


def item_links(
    settings: LinkSettings,
    *,
    rule: str,
    subject_type: str,
    subject_id: int,
    payload: Mapping[str, Any],
    person_id: int,
    mail_id: int,
    expires_at: datetime,
) -> list[dict[str, str]]:
    """The links of one mailed item: `[{"action": "done", "url": "…/l/<token>"}, …]`, in order.

    A notice whose subject is not the item its actions act on (a rule reused for something else)
    gets no links rather than a link to the wrong thing.
    """
    links = []
    for action in actions_for(rule, payload):
        if SUBJECT_OF[action] != subject_type:
            return []
        token = settings.signer.sign(person_id, action, subject_id, expires_at, nonce=f"mail-{mail_id}")
        links.append({"action": str(action), "url": link_url(settings.base_url, token)})
    return links
