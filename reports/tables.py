"""HTML rows of the report tables, built in Python: a year of data means thousands of cells,
and Django's template engine spends seconds on that many loop iterations and includes.

Every cell goes through `html.escape` (what Django's `escape` calls, without its lazy-string
wrapper, which doubled the cost of ~15,000 cells on the 500-rep page); `format_html` per cell
cost ~0.1 s there. No value here is already-safe HTML.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from .columns import TABLE_COLUMNS, Column, RepChart
from .selectors import RepRow
from .templatetags.report_format import duration, pct

REP_PAGE_URL = "/reports/reps/{}/"  # the managers' rep page (reports/rep_page.py)


def _e(value) -> str:
    return escape(str(value))


def cell(column: Column, row: RepRow) -> str:
    """A figure of `row` in words, as `column` declares it (text, count, percentage, duration)."""
    value = getattr(row, column.key)
    if column.fmt in ("pct", "load"):
        return pct(value, 0 if column.fmt == "load" else 1)
    if column.fmt == "duration":
        return duration(value)
    return str(value)


def _figure_cells(row: RepRow) -> str:
    """The table's figure columns (TABLE_COLUMNS after the text ones); load with the rep's capacity."""
    out = []
    for column in TABLE_COLUMNS:
        if not column.numeric:
            continue
        extra = f' <span class="muted">of {_e(row.capacity)}</span>' if column.fmt == "load" else ""
        out.append(f'<td class="num" data-col="{column.key}">{_e(cell(column, row))}{extra}</td>')
    return "".join(out)


def _text_cells(row: RepRow) -> str:
    """The text columns after the rep's name (the team)."""
    return "".join(f"<td>{_e(getattr(row, c.key) or '—')}</td>" for c in TABLE_COLUMNS[1:] if not c.numeric)


def _mark(row: RepRow) -> str:
    return f' <span class="mark">{_e(row.mark)}</span>' if row.mark else ""


def rep_rows(rows: list[RepRow]) -> SafeString:
    """<tr> per rep: name (linking to the rep's page in the reports) with its mark (away, inactive), team
    and the figures."""
    return mark_safe(
        "".join(
            f'<tr data-rep-id="{_e(row.rep_id)}"><th scope="row"><a href="{_e(REP_PAGE_URL.format(row.rep_id))}"'
            f' title="{_e(row.email)}">{_e(row.name)}</a>{_mark(row)}</th>{_text_cells(row)}{_figure_cells(row)}</tr>'
            for row in rows
        )
    )


def total_row(total: RepRow) -> SafeString:
    blanks = "<td></td>" * sum(1 for c in TABLE_COLUMNS[1:] if not c.numeric)
    return mark_safe(f'<tr id="totals"><td>Total</td>{blanks}{_figure_cells(total)}</tr>')


def chart_rows(chart: RepChart, rows: list[RepRow]) -> SafeString:
    """A per-rep chart's data table: the rep's name, then the chart's columns, for reps it counts."""
    return simple_rows(
        [[row.label, *(cell(c, row) for c in chart.columns)] for row in rows if getattr(row, chart.shown_when)]
    )


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
