"""Chart geometry for inline SVG drawn by the server: no script and no outside service.

Each function lays the figures out in a fixed view box; the template only draws the
shapes, and every chart sits next to a table holding the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
ROW_HEIGHT = 22
LABEL_WIDTH = 150
VALUE_ROOM = 70  # right of the longest bar, for its figure
COLUMN_AREA = 180  # height of the stacked columns


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    text: str

    @property
    def text_x(self) -> float:
        return self.x + self.width + 4

    @property
    def text_y(self) -> float:
        return self.y + self.height * 0.75


@dataclass(frozen=True)
class BarGroup:
    label: str
    label_x: float
    label_y: float
    bars: list[Bar]
    tip: str = ""  # the group's figures, shown on hover


@dataclass(frozen=True)
class Chart:
    kind: str  # "bars" (horizontal, grouped) or "columns" (vertical, stacked)
    title: str
    width: int
    height: int
    series: list[str]
    groups: list[BarGroup]
    baseline: float = 0


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], fmt: Callable
) -> Chart:
    """Horizontal bars, one group per label and one bar per series, scaled to the largest value."""
    top = max((v or 0 for _, values in series for v in values), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_ROOM
    bar_height = ROW_HEIGHT - 6
    group_height = ROW_HEIGHT * len(series) + 8
    groups = []
    for i, label in enumerate(labels):
        y0 = i * group_height + 4
        bars = [
            Bar(
                x=LABEL_WIDTH,
                y=y0 + k * ROW_HEIGHT,
                width=round(span * (values[i] or 0) / top, 1),
                height=bar_height,
                series=k,
                text=fmt(values[i]),
            )
            for k, (_, values) in enumerate(series)
        ]
        groups.append(BarGroup(label=label, label_x=LABEL_WIDTH - 8, label_y=y0 + group_height / 2, bars=bars))
    return Chart("bars", title, WIDTH, max(group_height * len(labels), ROW_HEIGHT) + 4, [s for s, _ in series], groups)


def stacked_columns(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> Chart:
    """One column per label, its series stacked bottom-up, scaled to the tallest column.

    Long periods label only every few columns so the dates stay legible.
    """
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    slot = (WIDTH - 40) / max(len(labels), 1)
    label_every = math.ceil(len(labels) / 10) or 1
    groups = []
    for i, label in enumerate(labels):
        y = COLUMN_AREA + 10.0
        bars = []
        for k, (_, values) in enumerate(series):
            height = round(COLUMN_AREA * values[i] / top, 1)
            y -= height
            bars.append(Bar(x=30 + i * slot + slot * 0.15, y=y, width=slot * 0.7, height=height, series=k, text=""))
        tip = f"{label}: " + ", ".join(f"{name} {values[i]}" for name, values in series)
        shown = label if i % label_every == 0 else ""
        centre = 30 + i * slot + slot / 2
        groups.append(BarGroup(label=shown, label_x=centre, label_y=COLUMN_AREA + 26, bars=bars, tip=tip))
    return Chart("columns", title, WIDTH, COLUMN_AREA + 34, [s for s, _ in series], groups, baseline=COLUMN_AREA + 10)
