"""A small sales floor for /queue/: a pool team (Ana, Bo) on a pool rule, and Carl on another team."""

import itertools
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from leadops.models import Lead
from leadops.tests.factories import LeadFactory
from reps.models import Rep
from reps.tests.factories import RepFactory, TeamFactory
from routing.models import Rule
from routing.services import leads_route
from routing.tests.factories import RuleConditionFactory, RuleFactory

PASSWORD = "pass-Word-123"
SERIAL = itertools.count(1)


def rep_with_login(username: str, **fields) -> Rep:
    rep = RepFactory(**fields)
    rep.user = User.objects.create_user(username=username, password=PASSWORD)
    rep.save()
    return rep


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Floor:
    ana: Rep
    bo: Rep
    carl: Rep
    pool_rule: Rule
    carl_rule: Rule

    def pooled(self, n: int, **facts) -> list[Lead]:
        """n leads routed by the engine into the Inbound pool (no company: the pool rule's condition)."""
        facts = {"industry": "software", **facts}
        leads = [LeadFactory(company="", email=f"walk-in{next(SERIAL)}@mail.example", **facts) for _ in range(n)]
        leads_route(lead_ids=[lead.id for lead in leads])
        return list(Lead.objects.filter(id__in=[lead.id for lead in leads]).order_by("created_at", "id"))

    def assigned_to_carl(self, n: int = 1) -> list[Lead]:
        leads = LeadFactory.create_batch(n, company="Carl's Corp", industry="logistics")
        leads_route(lead_ids=[lead.id for lead in leads])
        return list(Lead.objects.filter(id__in=[lead.id for lead in leads]).order_by("id"))


@pytest.fixture
def floor(db) -> Floor:
    inbound, field = TeamFactory(name="Inbound SDR"), TeamFactory(name="Field")
    ana = rep_with_login("ana", name="Ana Ruiz", team=inbound, capacity=10)
    bo = rep_with_login("bo", name="Bo Lind", team=inbound, capacity=10)
    carl = rep_with_login("carl", name="Carl Berg", team=field, capacity=10)
    carl_rule = RuleFactory(name="Logistics to Field", priority=10, pool_team=field)
    RuleConditionFactory(rule=carl_rule, field="industry", op="equals", value="logistics")
    pool_rule = RuleFactory(name="No company given", priority=20, pool_team=inbound, strategy="pool", claim_limit=2)
    RuleConditionFactory(rule=pool_rule, field="company", op="is_empty", value=None)
    return Floor(ana=ana, bo=bo, carl=carl, pool_rule=pool_rule, carl_rule=carl_rule)


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Hashing a password the production way takes most of a second on a busy machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
