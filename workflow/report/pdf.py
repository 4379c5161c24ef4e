"""The yearly report as PDF: the same HTML, laid out for A4 by WeasyPrint (fonts embedded, no network)."""

from __future__ import annotations

from weasyprint import HTML


def _no_fetch(url: str, *args, **kwargs):
    # The report is one self-contained document: nothing is fetched while it is laid out.
    raise ValueError(f"the report fetches nothing: {url}")


def report_pdf(html: str) -> bytes:
    """The report's HTML (with its inline stylesheet, `render_report` without a URL) as PDF bytes."""
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()
