"""Chart geometry for server-rendered inline SVG: the templates draw, this module only measures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: str
    show_label: bool = True


def nice_max(value: float) -> float:
    """A round axis maximum at or above the value (1, 2, 2.5, 5 × 10^k)."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exp
        if top >= value:
            return float(top)
    return float(10 ** (exp + 1))


def column_chart(points: Sequence[tuple[str, float | int | Decimal]], *, width: int = 640, height: int = 180,
                 pad_left: int = 40, pad_bottom: int = 22, label_every: int | None = None) -> dict:
    """Vertical bars for a daily trend, with a y axis of three gridlines."""
    n = max(len(points), 1)
    top = nice_max(max((float(v) for _, v in points), default=0.0))
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - 8
    slot = plot_w / n
    every = label_every or max(1, math.ceil(n / 10))
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * float(value) / top if top else 0
        bars.append(Bar(x=round(pad_left + i * slot + slot * 0.15, 2), y=round(8 + plot_h - h, 2),
                        w=round(max(slot * 0.7, 1), 2), h=round(h, 2), label=label,
                        value=_fmt(value), show_label=(i % every == 0)))
    grid = [{"y": round(8 + plot_h - plot_h * f, 2), "value": _fmt(top * f)} for f in (0, 0.5, 1)]
    return {"width": width, "height": height, "bars": bars, "grid": grid, "pad_left": pad_left,
            "base_y": 8 + plot_h, "label_y": height - 6, "right": width - 8}


def bar_list(items: Sequence[tuple[str, float | int | Decimal]], *, width: int = 320) -> dict:
    """Horizontal bars for a breakdown (by kind, by reason), longest first as given."""
    top = max((float(v) for _, v in items), default=0.0) or 1.0
    rows = [{"label": label, "value": _fmt(value), "w": round(width * float(value) / top, 2)} for label, value in items]
    return {"width": width, "rows": rows, "height": 26 * max(len(rows), 1)}


def _fmt(value: float | int | Decimal) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return str(int(value))
