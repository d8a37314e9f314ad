"""The reports count a lead a rep claimed on /queue/ like any engine assignment."""

import csv
import io

from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from reports import selectors
from reports.tests.helpers import report_filter
from reps.tests.conftest import PASSWORD, client_for


def test_a_claimed_and_contacted_lead_counts_as_assigned_and_contacted_for_the_claimer(floor):
    leads = floor.pooled(3)
    ana = client_for(floor.ana.user)
    ana.post(f"/queue/leads/{leads[0].pk}/claim/")
    ana.post("/queue/next/")  # the next oldest: leads[1]
    ana.post(f"/queue/leads/{leads[0].pk}/outcome/", {"type": "contacted"})
    ana.post(f"/queue/leads/{leads[1].pk}/outcome/", {"type": "converted"})

    today = timezone.localdate().isoformat()
    filters = report_filter(start=today, end=today)
    report = selectors.rep_report(assignments=filters.qs, due=filters.sla_due(), reps=filters.reps())
    row = next(r for r in report.rows if r.rep_id == floor.ana.pk)
    assert (row.assigned, row.contacted, row.converted, row.open) == (2, 1, 1, 1)
    assert row.conversion_rate == 0.5 and row.assignment_accuracy == 1.0
    bo = next(r for r in report.rows if r.rep_id == floor.bo.pk)
    assert bo.assigned == 0  # the pool decision itself is nobody's assignment

    manager = User.objects.create_user("manager", password=PASSWORD)
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(Permission.objects.get(codename="view_reports"))
    manager.groups.add(group)
    response = client_for(manager).get(f"/reports/reps.csv?start={today}&end={today}")
    rows = {r["rep_email"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert (rows[floor.ana.email]["assigned"], rows[floor.ana.email]["converted"]) == ("2", "1")
    page = client_for(manager).get(f"/reports/reps/{floor.ana.pk}/?start={today}&end={today}")  # the rep's page
    assert (page.context["figures"].assigned, page.context["figures"].converted) == (2, 1)
    assert {row.lead_id for row in page.context["leads"]} == {leads[0].pk, leads[1].pk}
