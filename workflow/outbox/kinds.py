"""The kinds of mail trygg sends (the X-Trygg-Kind header), and which notices share a mail."""

from __future__ import annotations

from collections.abc import Collection

# One fixed list for the whole product: filters, templates and tests all name these.
KINDS: tuple[str, ...] = (
    "reminder",
    "overdue",
    "escalation",
    "digest",
    "meeting_plan",
    "agenda_call",
    "invitation",
    "meeting_update",
    "cancellation",
    "minutes_request",
    "minutes",
    "checkin_invitation",
    "checkin_report",
    "evaluation",
    "delivery_failure",
    "sign_in",
    "extension_request",
    "extension_decision",
    "agreement_ending",
    "weekly_summary",
)

# Notices of these rules are gathered: one mail per person, group and day (a secretary with
# three sets of minutes missing gets one mail listing them). Rules not listed — the meeting_plan, the invitation,
# meeting_update, cancellation and checkin_invitation, each with its own calendar part that a
# calendar client reads as one event — get a mail of their own, of their kind; so do the mails
# that cannot wait (sign_in, extension_request, extension_decision): due at once, never gathered.
GROUP_OF_RULE: dict[str, str] = {
    "reminder": "personal",
    "overdue": "personal",
    "escalation": "escalation",
    "delivery_failure": "delivery_failure",
    "agenda_call": "agenda_call",
    "minutes_request": "minutes_request",
    "minutes": "minutes",
    "checkin_report": "checkin_report",
    "evaluation": "evaluation",
    "agreement_ending": "agreement_ending",
    "weekly_summary": "weekly_summary",
}


def group_of(rule: str) -> str | None:
    """The daily group a notice of `rule` joins, or None when it travels alone."""
    return GROUP_OF_RULE.get(rule)


def mail_kind(rules: Collection[str]) -> str:
    """The kind of a mail carrying notices of these rules: several personal ones are a digest."""
    distinct = set(rules)
    if not distinct:
        raise ValueError("a mail carries at least one notice")
    if len(rules) > 1 and distinct <= {"reminder", "overdue"}:
        return "digest"
    if len(distinct) > 1:
        raise ValueError(f"notices of different groups in one mail: {sorted(distinct)}")
    (rule,) = distinct
    if rule not in KINDS:
        raise ValueError(f"unknown mail kind {rule!r}")
    return rule
