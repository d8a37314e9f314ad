"""Display helpers for the report tables: percentages and durations."""

from django import template

register = template.Library()


@register.filter
def pct(value, digits=1):
    """0.3 → 30.0 %; empty when there is no figure."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(digits)}f} %"


@register.filter
def duration(seconds):
    """252 → 4 min 12 s; 5400 → 1 h 30 min; empty when there is no figure."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


@register.filter
def number(value, digits=1):
    if value is None:
        return "—"
    return f"{value:.{int(digits)}f}"
