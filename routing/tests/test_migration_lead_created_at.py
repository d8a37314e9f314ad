"""Migration routing 0012 on a history written before it: each assignment gets the time its lead came in,
the column becomes required, and rule coverage's index is keyed on it."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory
from routing.models import Assignment

BEFORE = [("routing", "0011_assignment_rep_index_covering")]
AFTER = [("routing", "0012_assignment_lead_created_at")]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, Assignment._meta.db_table))


@pytest.mark.django_db(transaction=True)
def test_routing_0012_copies_each_leads_time_onto_its_assignments():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("routing", "Assignment")
    assert "assignment_first_decision_idx" in _indexes()
    ana, ben = RepFactory(name="Ana"), RepFactory(name="Ben")
    came_in = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    leads = [LeadFactory(created_at=came_in + dt.timedelta(days=i)) for i in range(3)]
    for i, lead in enumerate(leads):
        old.objects.create(lead_id=lead.id, rep_id=ana.id, created_at=lead.created_at + dt.timedelta(minutes=1))
        if i == 1:  # moved by hand a day later
            old.objects.create(lead_id=lead.id, rep_id=ben.id, created_at=lead.created_at + dt.timedelta(days=1))
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        rows = list(Assignment.objects.order_by("id").values_list("lead_id", "lead_created_at"))
        came = {lead.id: lead.created_at for lead in leads}
        assert [created for _, created in rows] == [came[lead_id] for lead_id, _ in rows]
        assert len(rows) == 4
        field = Assignment._meta.get_field("lead_created_at")
        with connection.cursor() as cursor:
            columns = connection.introspection.get_table_description(cursor, Assignment._meta.db_table)
        assert [c.null_ok for c in columns if c.name == field.column] == [False]  # required from now on
        indexes = _indexes()
        assert "assignment_coverage_idx" in indexes and "assignment_first_decision_idx" not in indexes
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
