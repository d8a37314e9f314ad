"""HTML rows of the report tables, built in Python: a year of data means thousands of cells,
and Django's template engine spends seconds on that many loop iterations and includes."""
from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .selectors import RepRow
from .templatetags.report_format import duration, pct

LEADS_ADMIN_URL = "/admin/leadops/lead/?owner__id__exact={}"


def _figure_cells(row: RepRow) -> SafeString:
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
    html = format_html_join("", '<td class="num" data-col="{}">{}</td>', cells)
    load = format_html(
        '<td class="num" data-col="load">{} <span class="muted">of {}</span></td>', pct(row.load, 0), row.capacity,
    )
    return html + load


def rep_rows(rows: list[RepRow]) -> SafeString:
    """<tr> per rep: name (linking to the rep's leads in the admin), team and the figures."""
    return mark_safe("".join(
        format_html(
            '<tr data-rep-id="{}"><th scope="row"><a href="{}" title="{}">{}</a></th><td>{}</td>{}</tr>',
            row.rep_id, LEADS_ADMIN_URL.format(row.rep_id), row.email, row.name, row.team or "—", _figure_cells(row),
        )
        for row in rows
    ))


def total_row(total: RepRow) -> SafeString:
    return format_html('<tr id="totals"><td>Total</td><td></td>{}</tr>', _figure_cells(total))


def simple_rows(rows: list[list], numeric_from: int = 1) -> SafeString:
    """Plain data-table rows; the first cell is the row header, cells from `numeric_from` align right."""
    out = []
    for cells in rows:
        head, *rest = cells
        tds = "".join(
            format_html('<td class="num">{}</td>', cell) if i + 1 >= numeric_from else format_html("<td>{}</td>", cell)
            for i, cell in enumerate(rest)
        )
        out.append(format_html('<tr><th scope="row">{}</th>{}</tr>', head, mark_safe(tds)))
    return mark_safe("".join(out))
