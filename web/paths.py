"""No open redirect: a `next` address is followed only when it is a path of this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` if it is a local absolute path (not //host, not a scheme, no backslash), else `default`."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if "\\" in candidate or any(ord(c) < 32 for c in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
