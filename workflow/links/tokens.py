"""Link tokens: signed with TRYGG_SECRET_KEY, bound to a person, an action, an item and an expiry.

A token is itsdangerous' URL-safe signed JSON. The expiry is checked against the caller's clock
(time is injected, as everywhere), not the OS clock. Each token has an id (`jti`): a token that
changes something works once, and the used-token record (workflow.links.models.UsedToken) says
what it did, by whom and when. The token is a capability: never log it (`Grant.safe` is what a
log may hold).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "trygg.link.v1"
FEED_SALT = "trygg.calendar-feed.v1"
MIN_SECRET_LENGTH = 32
DEFAULT_SECRET = "change-me"
SIGN_IN_VALID = timedelta(minutes=15)


class Action(StrEnum):
    """What a link lets its person do; the subject is the item it acts on."""

    DONE = "done"  # activity: Klart
    PROGRESS = "progress"  # activity: Rapportera läget
    EXTEND = "extend"  # activity: Begär ny slutdag (a request the coordinator decides)
    ACK = "ack"  # activity: Jag har sett förseningen (escalation)
    PROPOSE = "propose"  # meeting: Föreslå en punkt
    ATTEND = "attend"  # meeting: Jag kommer
    DECLINE = "decline"  # meeting: Jag kommer inte (optionally a deputy)
    MINUTES = "minutes"  # meeting: Lämna mötesanteckningar
    APPROVE = "approve"  # extension request: Godkänn
    REFUSE = "refuse"  # extension request: Avslå
    SIGN_IN = "sign_in"  # person: the mailed sign-in link


# The item each action acts on (Grant.subject_type).
SUBJECT_OF: dict[Action, str] = {
    Action.DONE: "activity",
    Action.PROGRESS: "activity",
    Action.EXTEND: "activity",
    Action.ACK: "activity",
    Action.PROPOSE: "meeting",
    Action.ATTEND: "meeting",
    Action.DECLINE: "meeting",
    Action.MINUTES: "meeting",
    Action.APPROVE: "extension_request",
    Action.REFUSE: "extension_request",
    Action.SIGN_IN: "person",
}


class TokenError(ValueError):
    """A link that cannot be used: `reason` is tampered, expired (said to the person, never logged)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Grant:
    """What a verified token allows."""

    person_id: int
    action: Action
    subject_id: int
    expires_at: datetime
    jti: str

    @property
    def subject_type(self) -> str:
        return SUBJECT_OF[self.action]

    @property
    def safe(self) -> str:
        """What a log may say about the token: never the token itself."""
        return f"{self.action}:{self.subject_type}:{self.subject_id} for person:{self.person_id}"


def weak_secret(secret: str | None) -> str | None:
    """Why `secret` must not sign links in production (None when it is fine)."""
    if not secret:
        return "empty"
    if secret == DEFAULT_SECRET:
        return "the default"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    return None


def throwaway_secret() -> str:
    """A key for one run (`trygg simulate`, a demo): its links stop working when the run ends."""
    return secrets.token_urlsafe(48)


class LinkSigner:
    """Signs and verifies link tokens with one secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a link signer needs a secret")
        self._secret = secret.encode("utf-8")
        self._serializer = URLSafeSerializer(secret, salt=SALT)

    def sign(
        self,
        person_id: int,
        action: Action,
        subject_id: int,
        expires_at: datetime,
        *,
        nonce: str | None = None,
    ) -> str:
        """A token; `nonce` makes its id deterministic (a mail's links are the same on every attempt)."""
        jti = self._jti(person_id, action, subject_id, nonce) if nonce else secrets.token_urlsafe(12)
        payload = [person_id, str(action), subject_id, int(expires_at.timestamp()), jti]
        return self._serializer.dumps(payload)

    def verify(self, token: str, now: datetime) -> Grant:
        """The grant of a genuine, unexpired token; TokenError otherwise."""
        try:
            person_id, action, subject_id, expires, jti = self._serializer.loads(token)
            grant = Grant(
                person_id=int(person_id),
                action=Action(action),
                subject_id=int(subject_id),
                expires_at=datetime.fromtimestamp(int(expires), tz=now.tzinfo),
                jti=str(jti),
            )
        except (BadSignature, ValueError, TypeError):
            raise TokenError("tampered") from None
        if now >= grant.expires_at:
            raise TokenError("expired")
        return grant

    def feed_token(self, feed_id: int, person_id: int) -> str:
        """The secret part of a person's calendar address (valid until the feed row is revoked)."""
        return URLSafeSerializer(self._secret, salt=FEED_SALT).dumps([feed_id, person_id])

    def verify_feed(self, token: str) -> tuple[int, int]:
        """(feed id, person id) of a genuine calendar address; TokenError otherwise."""
        try:
            feed_id, person_id = URLSafeSerializer(self._secret, salt=FEED_SALT).loads(token)
            return int(feed_id), int(person_id)
        except (BadSignature, ValueError, TypeError):
            raise TokenError("tampered") from None

    def _jti(self, person_id: int, action: Action, subject_id: int, nonce: str) -> str:
        message = f"{person_id}:{action}:{subject_id}:{nonce}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:22]
