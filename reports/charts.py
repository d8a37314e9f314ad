"""Plotly figures (plain JSON dicts) built from the selectors' results.

The page embeds each figure with json_script and draws it with the plotly.min.js that ships
inside the installed `plotly` package (served by reports.views.plotly_js): no CDN, no network.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import plotly

from .columns import RepChart
from .selectors import SPEED_BUCKETS, RepRow

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
PLOTLY_VERSION = plotly.__version__

_LAYOUT = {
    "margin": {"l": 60, "r": 20, "t": 10, "b": 90},
    "height": 320,
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "plot_bgcolor": "#fff",
    "paper_bgcolor": "#fff",
}


def _layout(**extra) -> dict:
    return {**_LAYOUT, **extra}


# Tops of a fraction axis: the smallest that holds the highest bar, so 27 % at most draws up to 30 %.
AXIS_TOPS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
BAR = "#2f6fb0"
BAR_MARKED = "#9aa8b6"  # reps away or inactive: their few leads have a reason


def axis_top(values: list[float]) -> float:
    """The top of a 0–1 axis that fits `values` (never above 100 % unless a value is)."""
    highest = max(values, default=0)
    return next((top for top in AXIS_TOPS if highest <= top), highest)


def rate_per_rep(rows: list[RepRow], chart: RepChart) -> dict | None:
    """A bar per rep with a figure for `chart.value` (reps away or inactive marked in their label and
    greyed); None when there is nothing to draw."""
    attr = chart.value
    shown = [r for r in rows if getattr(r, attr) is not None]
    if not shown:
        return None
    values = [round(getattr(r, attr), 4) for r in shown]
    return {
        "data": [
            {
                "type": "bar",
                "name": chart.title,
                "x": [r.label for r in shown],
                "y": values,
                "marker": {"color": [BAR_MARKED if r.mark else BAR for r in shown]},
                "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
            }
        ],
        "layout": _layout(
            yaxis={"tickformat": ".0%", "range": [0, axis_top(values)], "title": {"text": chart.title}},
            xaxis={"automargin": True},
        ),
    }


def leads_per_day(points: list[dict], start: dt.date, end: dt.date) -> tuple[dict | None, list[dict]]:
    """Stacked bars of leads assigned per day by team, and the same as table rows (team → counts)."""
    if not points:
        return None, []
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    teams = sorted({p["team_name"] for p in points})
    counts = {(p["day"], p["team_name"]): p["leads"] for p in points}
    traces = [
        {"type": "bar", "name": team, "x": [d.isoformat() for d in days], "y": [counts.get((d, team), 0) for d in days]}
        for team in teams
    ]
    figure = {
        "data": traces,
        "layout": _layout(
            barmode="stack",
            xaxis={"type": "date"},
            yaxis={"title": {"text": "Leads"}},
            legend={"orientation": "h", "y": -0.3},
        ),
    }
    table = [{"day": p["day"], "team": p["team_name"], "leads": p["leads"]} for p in points]
    return figure, table


def speed_distribution(total: RepRow) -> tuple[dict | None, list[dict]]:
    """Assignments by time to first contact, with the never-contacted ones as their own bar."""
    labels = [label for label, _ in SPEED_BUCKETS] + ["Not contacted"]
    not_contacted = total.assignments - sum(total.buckets)
    values = [*total.buckets, not_contacted]
    table = [{"bucket": label, "assignments": value} for label, value in zip(labels, values, strict=False)]
    if not total.assignments:
        return None, table
    figure = {
        "data": [
            {
                "type": "bar",
                "x": labels,
                "y": values,
                "marker": {"color": "#4f9a6b"},
                "hovertemplate": "%{x}: %{y}<extra></extra>",
            }
        ],
        "layout": _layout(yaxis={"title": {"text": "Assignments"}}),
    }
    return figure, table
