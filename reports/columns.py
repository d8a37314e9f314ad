"""The per-rep report's columns, declared once: the query computes them (reports/selectors.py), the
HTML table shows them (reports/tables.py, with its headings and sort links), the per-rep charts plot
them with their data tables (reports/charts.py) and the CSV exports them (reports/exports.py).

A new figure is one `Column` here (and its field on `selectors.RepRow`): `sql` when it is a count
over the period's assignment facts (`r` rep, `l` lead, `lk` the lead when it may have several
assignments in the period, `conv`, `contacted`, `speed`, `mis`, `moved`, `w`; the
definitions are in reports/selectors.py) with `rollup` the RepDayFigures field that holds the same
count per rep and day (reports/rollups.py; for a distinct-lead count, that of the leads that count once),
`due_sql` when it is a count over the assignments whose
SLA fell due in the period (`r` rep, `met`, `breached`), `ratio` when it is a fraction of two
aggregates (`agg.<key>` of the period's facts, `due.<key>` of the SLA slice), none of these when it
comes from the rep (open now, capacity, load).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

FAST_CONTACT_SECONDS = 300

# Speed-to-lead histogram buckets: (label, upper bound in seconds, inclusive).
SPEED_BUCKETS = [
    ("≤ 5 min", 5 * 60),
    ("5–15 min", 15 * 60),
    ("15–60 min", 60 * 60),
    ("1–4 h", 4 * 3600),
    ("4–24 h", 24 * 3600),
    ("> 1 day", None),
]


def seconds_between_sql(end: str, start: str) -> str:
    """SQL for the seconds from `start` to `end` (two datetime columns) as a number, on Postgres and SQLite."""
    if connection.vendor == "postgresql":
        # date_part is double precision; EXTRACT is numeric since Postgres 14, several times slower to
        # compare and sort over a year of assignments (the buckets compare each row's speed six times).
        return f"date_part('epoch', {end} - {start})"
    # julianday() is a float of days: round to the millisecond so 3600 s stays 3600 s.
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"


def speed_bucket_conditions(speed: str) -> list[str]:
    """SQL conditions, one per SPEED_BUCKETS bucket, on `speed` (the SQL of a speed-to-lead in seconds)."""
    conditions, low = [], None
    for _, high in SPEED_BUCKETS:
        cond = f"{speed} IS NOT NULL"
        if low is not None:
            cond += f" AND {speed} > {low}"
        if high is not None:
            cond += f" AND {speed} <= {high}"
        conditions.append(cond)
        low = high
    return conditions


@dataclass(frozen=True)
class Column:
    key: str  # the RepRow attribute, the sort key and the table cell's data-col
    label: str  # table heading
    csv: str | None = None  # CSV header; None: not exported
    fmt: str = "count"  # text, count, pct (a fraction 0–1), duration (seconds), load (a fraction, "of capacity")
    table: bool = True  # a column of the HTML table (sortable)
    sql: str | None = None  # an aggregate over the facts, per rep and in total
    ratio: tuple[str, str] | None = None  # SQL over the aggregates (agg.<key>): numerator, denominator
    median: str | None = None  # the median of this fact (per dialect in the query)
    due_sql: str | None = None  # an aggregate over the SLAs due in the period, per rep and in total
    rollup: str | None = None  # the RepDayFigures field adding this count for the days rolled up
    due_rollup: str | None = None  # the RepDueDayFigures field adding this SLA count for the due days rolled up

    @property
    def numeric(self) -> bool:
        return self.fmt != "text"


def distinct_leads(condition: str) -> str:
    """Distinct leads with an assignment meeting `condition` (SQL over the facts; "1" for any).

    Only a lead with several assignments in the period can count twice, and those are the rows where `lk`
    is set (reports.selectors.assignment_facts_ctes): they are counted distinct, every other row is its
    lead's only one and is simply counted. COUNT(DISTINCT) over every row sorted the whole period per rep.
    """
    when = "" if condition == "1" else f" AND {condition}"
    lk = "lk" if condition == "1" else f"CASE WHEN {condition} THEN lk END"
    return f"COUNT(CASE WHEN lk IS NULL{when} THEN 1 END) + COUNT(DISTINCT {lk})"


COLUMNS: list[Column] = [
    Column("name", "Rep", csv="rep_name", fmt="text"),
    Column("email", "E-mail", csv="rep_email", fmt="text", table=False),
    Column("team", "Team", csv="team", fmt="text"),
    Column("assigned", "Assigned", csv="assigned", sql=distinct_leads("1"), rollup="single_assigned"),
    Column("open", "Open now", csv="open"),
    Column("contacted", "Contacted", csv="contacted", sql=distinct_leads("contacted"), rollup="single_contacted"),
    Column("converted", "Converted", csv="converted", sql=distinct_leads("conv"), rollup="single_converted"),
    Column("conversion_rate", "Conversion", csv="conversion_rate", fmt="pct", ratio=("agg.converted", "agg.assigned")),
    Column("median_speed", "Median speed-to-lead", csv="median_speed_to_lead_seconds", fmt="duration", median="speed"),
    Column(
        "within_5_min_share",
        "Contacted ≤ 5 min",
        csv="contacted_within_5_min_share",
        fmt="pct",
        ratio=("agg.within_5_min", "agg.assignments"),
    ),
    Column(
        "assignment_accuracy",
        "Accuracy",
        csv="assignment_accuracy",
        fmt="pct",
        ratio=("agg.assignments - agg.misrouted - agg.reassigned", "agg.assignments"),
    ),
    Column("misrouted", "Misrouted", csv="misrouted", sql="SUM(CASE WHEN mis THEN 1 ELSE 0 END)", rollup="misrouted"),
    Column(
        "reassigned",
        "Reassigned ≤ 7 d",
        csv="reassigned",
        sql="SUM(CASE WHEN moved AND NOT mis THEN 1 ELSE 0 END)",
        rollup="reassigned",
    ),
    Column("sla_met_rate", "SLA met", csv="sla_met_rate", fmt="pct", ratio=("due.sla_met", "due.sla_due")),
    Column(
        "sla_breaches",
        "SLA breaches",
        csv="sla_breaches",
        due_sql="SUM(CASE WHEN breached THEN 1 ELSE 0 END)",
        due_rollup="breached",
    ),
    Column("load", "Load", csv="load", fmt="load"),
    Column("capacity", "Capacity", csv="capacity", table=False),
    Column("assignments", "Assignments", csv="assignments", table=False, sql="COUNT(w)", rollup="assignments"),
    Column(
        "within_5_min",
        "Contacted ≤ 5 min (assignments)",
        table=False,
        sql=f"SUM(CASE WHEN speed <= {FAST_CONTACT_SECONDS} THEN 1 ELSE 0 END)",
        rollup="within_5_min",
    ),
    Column("sla_due", "SLAs due", csv="sla_due", table=False, due_sql="COUNT(*)", due_rollup="settled"),
    Column("sla_met", "SLAs met", table=False, due_sql="SUM(CASE WHEN met THEN 1 ELSE 0 END)", due_rollup="met"),
]
BY_KEY = {column.key: column for column in COLUMNS}
TABLE_COLUMNS = [column for column in COLUMNS if column.table]
CSV_COLUMNS = [column for column in COLUMNS if column.csv]
COUNT_COLUMNS = [column for column in COLUMNS if column.sql]
DUE_COLUMNS = [column for column in COLUMNS if column.due_sql]
RATIO_COLUMNS = [column for column in COLUMNS if column.ratio]
MEDIAN_COLUMNS = [column for column in COLUMNS if column.median]
FIGURE_KEYS = [column.key for column in (*COUNT_COLUMNS, *DUE_COLUMNS, *MEDIAN_COLUMNS, *RATIO_COLUMNS)]


@dataclass(frozen=True)
class RepChart:
    """A bar per rep of one fraction column, with a data table of the columns behind it."""

    key: str
    title: str
    value: str  # the column plotted
    table: tuple[str, ...]  # the data table's columns after the rep's name
    shown_when: str  # a rep is in the chart's data table when this count is not zero
    empty: str

    @property
    def columns(self) -> list[Column]:
        return [BY_KEY[key] for key in self.table]


REP_CHARTS: list[RepChart] = [
    RepChart(
        "conversion",
        "Conversion rate",
        value="conversion_rate",
        table=("assigned", "converted", "conversion_rate"),
        shown_when="assigned",
        empty="No leads were assigned in this period, so there is no conversion rate yet.",
    ),
    RepChart(
        "accuracy",
        "Assignment accuracy",
        value="assignment_accuracy",
        table=("assignments", "misrouted", "reassigned", "assignment_accuracy"),
        shown_when="assignments",
        empty="No assignments in this period.",
    ),
    RepChart(
        "sla",
        "SLA met rate",
        value="sla_met_rate",
        table=("sla_due", "sla_met", "sla_breaches", "sla_met_rate"),
        shown_when="sla_due",
        empty="No SLA fell due in this period (no rule with an SLA assigned leads, or none was due yet).",
    ),
]
