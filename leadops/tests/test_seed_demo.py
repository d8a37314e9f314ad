"""seed_demo builds a believable company once; running it again creates nothing new."""

import datetime as dt
import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Min
from django.utils import timezone

from leadops.demo import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    MANAGER_PASSWORD,
    MANAGER_USERNAME,
    REP_PASSWORD,
    REP_USERNAME,
)
from leadops.models import Account, Integration, Lead, LeadEvent
from reps.models import Rep, RepSkill, Team, TimeOff
from routing.models import Assignment, Operator, RepDailyCount, Rule, RuleCondition, Strategy, Territory

pytestmark = pytest.mark.django_db
MODELS = [
    Team,
    Rep,
    RepSkill,
    TimeOff,
    Territory,
    Rule,
    RuleCondition,
    Lead,
    Assignment,
    LeadEvent,
    Account,
    Integration,
    RepDailyCount,
]


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_running_it_twice_creates_nothing_new_and_the_printed_passwords_work():
    first_output = seed()
    first = counts()
    second_output = seed()
    assert counts() == first
    assert "nothing new created" in second_output
    for output in (first_output, second_output):
        assert f"{ADMIN_USERNAME} / {ADMIN_PASSWORD}" in output and f"{MANAGER_USERNAME} / {MANAGER_PASSWORD}" in output
        assert f"{REP_USERNAME} / {REP_PASSWORD}" in output
    admin = authenticate(username=ADMIN_USERNAME, password=ADMIN_PASSWORD)
    manager = authenticate(username=MANAGER_USERNAME, password=MANAGER_PASSWORD)
    assert admin.is_superuser and admin.is_staff
    assert manager.has_perm("reports.view_reports") and manager.groups.filter(name="Managers").exists()
    assert not manager.is_superuser
    rep_user = authenticate(username=REP_USERNAME, password=REP_PASSWORD)
    assert not rep_user.is_staff and rep_user.rep.team.name == "Inbound SDR"  # a member of a pool team
    # `make demo` routes the pending leads: the demo rep then has leads to claim on /queue/.
    from reps.selectors import rep_queue
    from routing.services import leads_route

    leads_route(lead_ids=Lead.objects.filter(external_id__startswith="demo-pool-").values_list("id", flat=True))
    assert rep_queue(rep=rep_user.rep).pooled_waiting >= 6


def test_demo_meets_the_minimums_and_its_history_holds_together():
    seed()
    now = timezone.now()
    assert Team.objects.count() >= 3
    reps = Rep.objects.all()
    assert reps.count() >= 25
    assert len({r.capacity for r in reps}) >= 5 and {float(r.weight) for r in reps} >= {0.5, 1.0}
    assert RepSkill.objects.values("proficiency").distinct().count() >= 4
    assert TimeOff.objects.filter(start__lte=now, end__gt=now).exists()  # someone is away right now
    assert Territory.objects.filter(parent__parent__isnull=False).exists()  # three levels: EMEA > DACH > Germany
    assert len({c for t in Territory.objects.all() for c in t.countries}) >= 10

    rules = Rule.objects.all()
    assert rules.count() >= 12
    assert set(rules.values_list("strategy", flat=True)) == set(Strategy.values)
    assert set(RuleCondition.objects.values_list("op", flat=True)) == set(Operator.values)

    leads = Lead.objects.all()
    assert leads.count() >= 5000
    oldest = leads.aggregate(first=Min("created_at"))["first"]
    assert now - dt.timedelta(days=91) < oldest < now - dt.timedelta(days=85)
    assert (
        leads.filter(status="pending").exists()
        and not leads.filter(status="pending", created_at__lt=now - dt.timedelta(hours=3)).exists()
    )
    statuses = set(leads.values_list("status", flat=True))
    assert {"assigned", "converted", "lost", "pending"} <= statuses
    assert set(LeadEvent.objects.values_list("type", flat=True)) >= {"contacted", "converted", "lost", "misrouted"}
    assert Assignment.objects.filter(decided_by="user", decided_by_user__isnull=False).exists()  # manual reassignments
    assert Account.objects.exists()

    # The history is consistent with itself. Each owned lead's owner is the rep of its latest assignment,
    # and nobody holds more open leads than capacity.
    for lead in Lead.objects.filter(owner__isnull=False).prefetch_related("assignments")[:500]:
        assert lead.assignments.all()[0].rep_id == lead.owner_id
    open_by_rep = dict(Lead.objects.open().values_list("owner").annotate(n=Count("id")))
    assert all(open_by_rep.get(rep.pk, 0) <= rep.capacity for rep in Rep.objects.all())
    # Timestamps follow one another: created → assigned → first contact → closed.
    for lead in Lead.objects.exclude(closed_at=None)[:500]:
        assert lead.created_at <= lead.assigned_at <= lead.closed_at
        assert lead.first_contacted_at is None or lead.assigned_at <= lead.first_contacted_at
    # Every assignment ended by a misrouted flag or a reassignment is followed by another one.
    ended = Assignment.objects.exclude(end_reason="").values_list("lead_id", flat=True)
    later = Assignment.objects.filter(lead_id__in=ended).values("lead_id").annotate(n=Count("id"))
    assert all(row["n"] >= 2 for row in later)
    contacted = Lead.objects.exclude(first_contacted_at=None).count()
    fast = sum(
        1
        for lead in Lead.objects.exclude(first_contacted_at=None).only("assigned_at", "first_contacted_at")
        if lead.first_contacted_at - lead.assigned_at <= dt.timedelta(minutes=5)
    )
    assert 0.05 < fast / contacted < 0.5  # speed-to-lead varies: some within 5 minutes, most not


def test_same_moment_gives_the_same_company():
    from leadops.demo import demo_seed

    def snapshot() -> list:
        return list(
            Lead.objects.order_by("external_id").values_list(
                "external_id",
                "email",
                "company",
                "country",
                "city",
                "status",
                "owner__email",
                "created_at",
                "closed_at",
            )
        )

    moment = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
    demo_seed(now=moment, lead_count=600)
    first = snapshot()
    Lead.objects.all().delete()
    Account.objects.all().delete()
    RepDailyCount.objects.all().delete()
    demo_seed(now=moment, lead_count=600)
    history = [row for row in first if not row[0].startswith("demo-pool-")]  # the demo rep's pool leads apart
    assert snapshot() == first and len(history) == 600
