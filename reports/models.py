from django.db import models


class ReportAccess(models.Model):
    """Holds the `reports.view_reports` permission; no rows are stored."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view manager reports")]

    def __str__(self) -> str:
        return "report access"


# ----------------------------------------------------------------------------- rollups (reports/rollups.py)


class RollupChange(models.Model):
    """A span of assignment times whose rollups may be out of date: written by a database trigger on every
    statement that inserts, deletes or changes the report facts of assignments (Postgres; migrations reports
    0003, 0005), so no writer can miss it, the services' bulk paths, migrations' fills and tests' factories
    alike. reports.rollups folds the spans into the rollups and deletes them; until then the reports read
    those days from the assignments themselves. Append-only: concurrent writers never wait on each other here."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "assignment times (RepDayFigures, RuleRepMonthFigures)"
        DUE = "due", "SLA due times (RepDueDayFigures, RuleDueDayFigures)"
        LEAD = "lead", "lead times of first decisions (CoverageDayFigures)"

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.ASSIGNED)
    time_from = models.DateTimeField()
    time_to = models.DateTimeField()  # inclusive: the changed rows' earliest and latest time of that kind

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.time_from:%Y-%m-%d %H:%M} – {self.time_to:%Y-%m-%d %H:%M} changed"


class RepFigures(models.Model):
    """A rep's additive report counts over the `assigned` assignments of a span of time (server time zone), as
    reports.selectors defines them; a lead that may count twice (its `lk` there) is left to the raw read.
    Derived data: rebuilt by reports.rollups, never edited."""

    rep_id = models.BigIntegerField()  # not a foreign key: derived rows, rebuilt whole; a deleted rep's stay
    assignments = models.PositiveIntegerField()
    single_assigned = models.PositiveIntegerField()  # of the leads that count once: assigned
    single_contacted = models.PositiveIntegerField()  # … contacted
    single_converted = models.PositiveIntegerField()  # … converted
    misrouted = models.PositiveIntegerField()
    reassigned = models.PositiveIntegerField()
    within_5_min = models.PositiveIntegerField()
    # The speed-to-lead histogram (reports.columns.SPEED_BUCKETS), for the page's chart.
    bucket_0 = models.PositiveIntegerField(default=0)
    bucket_1 = models.PositiveIntegerField(default=0)
    bucket_2 = models.PositiveIntegerField(default=0)
    bucket_3 = models.PositiveIntegerField(default=0)
    bucket_4 = models.PositiveIntegerField(default=0)
    bucket_5 = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class RepDayFigures(RepFigures):
    """A rep's counts of one day, rebuilt from the assignments."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id"], name="rep_day_figures_unique")]

    def __str__(self) -> str:
        return f"rep {self.rep_id} on {self.day}"


class RepMonthFigures(RepFigures):
    """A rep's counts of one month (`month` its first day), the sums of its RepDayFigures: a long period reads its
    whole months here, about 30 times fewer rows."""

    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "rep_id"], name="rep_month_figures_unique")]

    def __str__(self) -> str:
        return f"rep {self.rep_id}, month of {self.month}"


class RepDueFigures(models.Model):
    """A rep's settled SLAs due in a span of time (server time zone): the SLA columns of the per-rep table
    (reports.columns DUE_COLUMNS: assignments, not poolings, met or breached). Derived data, like RepFigures."""

    rep_id = models.BigIntegerField()
    settled = models.PositiveIntegerField()  # met or breached
    met = models.PositiveIntegerField()
    breached = models.PositiveIntegerField()

    class Meta:
        abstract = True


class RepDueDayFigures(RepDueFigures):
    """A rep's settled SLAs of one due day, rebuilt from the assignments."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "rep_id"], name="rep_due_day_figures_unique")]

    def __str__(self) -> str:
        return f"rep {self.rep_id}, SLAs due on {self.day}"


class RepDueMonthFigures(RepDueFigures):
    """A rep's settled SLAs of one due month (`month` its first day), the sums of its RepDueDayFigures."""

    month = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "rep_id"], name="rep_due_month_figures_unique")]

    def __str__(self) -> str:
        return f"rep {self.rep_id}, SLAs due in the month of {self.month}"


class RuleRepMonthFigures(models.Model):
    """The engine's assignments by one rule to one rep in one month (server time zone; `month` its first day):
    what pool fairness counts (reports.selectors.pool_fairness). By month, not day: where every rule assigns to
    every rep, day rows would be nearly as many as the assignments; with a running total. Derived data, like
    RepDayFigures; a report reads the months wholly inside its period and current, and the other days from the
    assignments."""

    month = models.DateField()
    rule_id = models.BigIntegerField()
    rep_id = models.BigIntegerField()
    assignments = models.PositiveIntegerField()
    # Its assignments since the first month, this one included: a run of whole months is two rows' difference, not
    # a sum over every month of the run. Every (rule, rep) that ever counted has a row in every later month.
    running = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "rule_id", "rep_id"], name="rule_rep_month_figures_unique")
        ]

    def __str__(self) -> str:
        return f"rule {self.rule_id}, rep {self.rep_id}, month of {self.month}"


class RuleDueDayFigures(models.Model):
    """The SLAs that fell due on one day (server time zone) and were settled, per rule under the name kept on
    its assignments: what the SLA card counts (reports.selectors.sla_health; poolings included, a claim in time
    meeting theirs). Derived data, like RepDayFigures; read for views without a team, territory or source."""

    day = models.DateField(db_index=True)
    rule_id = models.BigIntegerField(null=True)
    rule_name = models.CharField(max_length=120, blank=True)
    due = models.PositiveIntegerField()  # settled: met (or claimed in time) or breached
    breaches = models.PositiveIntegerField()
    pooled = models.PositiveIntegerField()  # of the breaches: pooled leads nobody claimed in time

    def __str__(self) -> str:
        return f"{self.rule_name or 'no rule'}, SLAs due on {self.day}"


class CoverageDayFigures(models.Model):
    """The first routing decisions of the leads that came in on one day (server time zone), counted per way
    they were made: what rule coverage groups (reports.selectors.rule_coverage). Derived data, like
    RepDayFigures; read for views without a team, territory or source (it holds none)."""

    day = models.DateField(db_index=True)
    outcome = models.CharField(max_length=12)
    decided_by = models.CharField(max_length=8)
    rule_id = models.BigIntegerField(null=True)
    strategy = models.CharField(max_length=20, blank=True)
    rule_name = models.CharField(max_length=120, blank=True)
    decisions = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.decisions} first decisions of {self.day}"


class RollupState(models.Model):
    """One row: the time zone the rollups' days are in. Another TIME_ZONE makes them unusable until
    reports.rollups refolds the whole history in it."""

    time_zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"rollups in {self.time_zone}"
