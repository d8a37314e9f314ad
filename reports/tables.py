"""HTML rows of the report tables, built in Python: a year of data means thousands of cells,
and Django's template engine spends seconds on that many loop iterations and includes.

Every cell goes through `html.escape` (what Django's `escape` calls, without its lazy-string
wrapper, which doubled the cost of ~15,000 cells on the 500-rep page); `format_html` per cell
cost ~0.1 s there. No value here is already-safe HTML.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from .selectors import RepRow
from .templatetags.report_format import duration, pct

LEADS_ADMIN_URL = "/admin/leadops/lead/?owner__id__exact={}"


def _e(value) -> str:
    return escape(str(value))


def _figure_cells(row: RepRow) -> str:
    cells = [
        ("assigned", row.assigned),
        ("open", row.open),
        ("contacted", row.contacted),
        ("converted", row.converted),
        ("conversion_rate", pct(row.conversion_rate)),
        ("median_speed", duration(row.median_speed)),
        ("within_5_min_share", pct(row.within_5_min_share)),
        ("assignment_accuracy", pct(row.assignment_accuracy)),
        ("misrouted", row.misrouted),
        ("reassigned", row.reassigned),
    ]
    html = "".join(f'<td class="num" data-col="{col}">{_e(value)}</td>' for col, value in cells)
    return (
        html
        + f'<td class="num" data-col="load">{_e(pct(row.load, 0))} '
        + f'<span class="muted">of {_e(row.capacity)}</span></td>'
    )


def rep_rows(rows: list[RepRow]) -> SafeString:
    """<tr> per rep: name (linking to the rep's leads in the admin), team and the figures."""
    return mark_safe(
        "".join(
            f'<tr data-rep-id="{_e(row.rep_id)}"><th scope="row"><a href="{_e(LEADS_ADMIN_URL.format(row.rep_id))}"'
            f' title="{_e(row.email)}">{_e(row.name)}</a></th><td>{_e(row.team or "—")}</td>{_figure_cells(row)}</tr>'
            for row in rows
        )
    )


def total_row(total: RepRow) -> SafeString:
    return mark_safe(f'<tr id="totals"><td>Total</td><td></td>{_figure_cells(total)}</tr>')


def simple_rows(rows: list[list], numeric_from: int = 1) -> SafeString:
    """Plain data-table rows; the first cell is the row header, cells from `numeric_from` align right."""
    out = []
    for cells in rows:
        head, *rest = cells
        tds = "".join(
            f'<td class="num">{_e(cell)}</td>' if i + 1 >= numeric_from else f"<td>{_e(cell)}</td>"
            for i, cell in enumerate(rest)
        )
        out.append(f'<tr><th scope="row">{_e(head)}</th>{tds}</tr>')
    return mark_safe("".join(out))
