"""The link settings tests deliver with: a fixed base URL and key, so that links are the same every run."""

from __future__ import annotations

from workflow.links.tokens import LinkSigner
from workflow.links.urls import LinkSettings

BASE_URL = "https://trygg.example.org"
SECRET = "test-secret-of-at-least-thirty-two-characters"
LINKS = LinkSettings(BASE_URL, LinkSigner(SECRET))
