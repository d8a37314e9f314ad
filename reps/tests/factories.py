"""Factories for reps, teams, skills and time off."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from reps.models import Rep, RepSkill, SkillTag, Team, TimeOff


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n:03d}")


class SkillTagFactory(DjangoModelFactory):
    class Meta:
        model = SkillTag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"skill-{n:03d}")


class RepFactory(DjangoModelFactory):
    class Meta:
        model = Rep
        skip_postgeneration_save = True

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"rep{n:04d}@leadops.example")
    team = factory.SubFactory(TeamFactory)
    timezone = "UTC"
    capacity = 40
    daily_cap = 15
    weight = Decimal("1.00")

    @factory.post_generation
    def territories(self, create, extracted, **kwargs):
        if create and extracted:
            self.territories.set(extracted)


class RepSkillFactory(DjangoModelFactory):
    class Meta:
        model = RepSkill

    rep = factory.SubFactory(RepFactory)
    skill = factory.SubFactory(SkillTagFactory)
    proficiency = 3


class TimeOffFactory(DjangoModelFactory):
    """A week off starting now, unless told otherwise."""

    class Meta:
        model = TimeOff

    rep = factory.SubFactory(RepFactory)
    start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    end = factory.LazyAttribute(lambda o: o.start + dt.timedelta(days=7))
    reason = "Holiday"
