"""Charts of the yearly report as inline SVG: they open offline, print, and need no script."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

COLOURS = {
    "done_on_time": "#2e7d32",
    "done_late": "#827717",
    "late": "#c62828",
    "in_progress": "#1565c0",
    "not_started": "#8e24aa",
    "ongoing": "#616161",
    "on_time": "#2e7d32",
    "pending": "#546e7a",
}


GRID = "#d0d7de"  # gridlines: visible on screen and in print, quieter than the bars
AXIS = "#333"  # the zero line
TEXT = 13  # type in the charts' own units; the charts scale to about 1:1 on screen and in the PDF
SMALL = 12


def ticks(peak: int) -> list[int]:
    """Whole-number gridline values from 0 to at least `peak`, at most six of them, at a round step."""
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        step = candidate
        if peak <= 5 * candidate:
            break
    top = max(step, -(-peak // step) * step)
    return list(range(0, top + 1, step))


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    keys: Sequence[str],
    labels: Mapping[str, str],
    *,
    title: str,
) -> Markup:
    """One horizontal bar per row, split by `keys`, on a scale with gridlines from a zero line; a legend below."""
    label_w, bar_w, row_h, top = 310, 400, 30, 8  # the longest area title fits its 310 units
    scale = ticks(max((sum(v.get(k, 0) for k in keys) for _, v in rows), default=0))
    total_max = scale[-1]
    plot_bottom = top + row_h * len(rows)
    height = plot_bottom + 64
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {label_w + bar_w + 40} {height}" width="100%">',
        f"<title>{escape(title)}</title>",
    ]
    for value in scale:
        x = label_w + bar_w * value / total_max
        parts.append(
            f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{plot_bottom}" '
            f'stroke="{AXIS if value == 0 else GRID}" stroke-width="{1.5 if value == 0 else 1}"/>'
            f'<text x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="middle" font-size="{SMALL}">{value}</text>'
        )
    for i, (name, values) in enumerate(rows):
        y = top + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" font-size="{TEXT}">{escape(name)}</text>'
        )
        x = float(label_w)
        for key in keys:
            n = values.get(key, 0)
            if not n:
                continue
            w = bar_w * n / total_max
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{COLOURS[key]}">'
                f"<title>{escape(labels[key])}: {n}</title></rect>"
            )
            if w >= 16:
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" font-size="{SMALL}" '
                    f'fill="#fff">{n}</text>'
                )
            x += w
    parts.append(_legend(keys, labels, 10, plot_bottom + 46))  # the whole width: six labels fit
    parts.append("</svg>")
    return Markup("".join(parts))


def monthly_columns(
    months: Sequence[Mapping[str, int]],
    keys: Sequence[str],
    labels: Mapping[str, str],
    month_names: Sequence[str],
    *,
    title: str,
) -> Markup:
    """One stacked column per month, on a scale with gridlines from a zero line."""
    left, col_w, plot_h, top = 36, 56, 150, 12
    scale = ticks(max((sum(m.get(k, 0) for k in keys) for m in months), default=0))
    peak = scale[-1]
    width, height = left + col_w * len(months) + 10, top + plot_h + 64
    base = top + plot_h
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%">',
        f"<title>{escape(title)}</title>",
    ]
    for value in scale:
        y = base - plot_h * value / peak
        parts.append(
            f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
            f'stroke="{AXIS if value == 0 else GRID}" stroke-width="{1.5 if value == 0 else 1}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{SMALL}">{value}</text>'
        )
    for i, month in enumerate(months):
        x = left + i * col_w + 6
        y = float(base)
        for key in keys:
            n = month.get(key, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{col_w - 12}" height="{h:.1f}" fill="{COLOURS[key]}">'
                f"<title>{escape(month_names[i])}, {escape(labels[key])}: {n}</title></rect>"
            )
        parts.append(
            f'<text x="{x + (col_w - 12) / 2}" y="{base + 17}" text-anchor="middle" font-size="{SMALL}">'
            f"{escape(month_names[i])}</text>"
        )
    parts.append(_legend(keys, labels, left, base + 46))
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(keys: Sequence[str], labels: Mapping[str, str], x: int, y: int) -> str:
    items = []
    for key in keys:
        items.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{COLOURS[key]}"/>'
            f'<text x="{x + 16}" y="{y}" font-size="{SMALL}">{escape(labels[key])}</text>'
        )
        x += 28 + 7 * len(labels[key])
    return "".join(items)


def rate_trend(years: Mapping[int, Any], *, title: str) -> Markup:
    """The on-time rate per year as columns (0–100 %); a year with nothing due yet shows no column.

    `years` maps a year to something with `percent` (report.figures.Verdict).
    """
    left, col_w, plot_h, top = 34, 48, 80, 14
    width, height = left + col_w * max(len(years), 1) + 8, top + plot_h + 22
    parts = [
        f'<svg class="trend" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="10">100 %</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="10">0</text>',
    ]
    for i, (year, verdict) in enumerate(sorted(years.items())):
        x = left + i * col_w + 8
        percent = verdict.percent
        if percent is not None:
            h = plot_h * percent / 100
            parts.append(
                f'<rect x="{x}" y="{top + plot_h - h:.1f}" width="{col_w - 16}" height="{h:.1f}" '
                f'fill="{COLOURS["on_time"]}"><title>{year}: {percent} %</title></rect>'
                f'<text x="{x + (col_w - 16) / 2}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle" '
                f'font-size="10">{percent}</text>'
            )
        parts.append(
            f'<text x="{x + (col_w - 16) / 2}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">'
            f"{year}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
