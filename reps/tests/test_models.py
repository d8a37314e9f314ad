"""The database itself refuses bad reps, skills and time off (not only the forms)."""

import datetime as dt
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from reps.models import Rep, RepSkill, SkillTag, Team, TimeOff
from reps.tests.factories import RepFactory, RepSkillFactory, SkillTagFactory, TeamFactory, TimeOffFactory

pytestmark = pytest.mark.django_db


@contextmanager
def rejected():
    """The row must be refused by the database; atomic keeps Postgres' transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        yield


@pytest.mark.parametrize("field, value", [("capacity", -1), ("daily_cap", -1), ("weight", 0), ("weight", -0.5)])
def test_rep_with_negative_capacity_cap_or_non_positive_weight_is_refused(field, value):
    team = TeamFactory()
    with rejected():
        Rep.objects.create(name="Ana Ruiz", email="ana@example.com", team=team, **{field: value})


def test_rep_with_zero_capacity_is_allowed_to_pause_them():
    rep = Rep.objects.create(name="Ana Ruiz", email="ana@example.com", capacity=0, daily_cap=0, weight=0.5)
    assert rep.pk


def test_two_reps_cannot_share_an_email():
    RepFactory(email="ana@example.com")
    with rejected():
        Rep.objects.create(name="Another Ana", email="ana@example.com")


def test_team_and_skill_names_are_unique():
    Team.objects.create(name="EMEA Enterprise")
    SkillTag.objects.create(name="airline")
    with rejected():
        Team.objects.create(name="EMEA Enterprise")
    with rejected():
        SkillTag.objects.create(name="airline")


@pytest.mark.parametrize("proficiency", [0, 6])
def test_proficiency_outside_1_to_5_is_refused(proficiency):
    rep, skill = RepFactory(), SkillTagFactory()
    with rejected():
        RepSkill.objects.create(rep=rep, skill=skill, proficiency=proficiency)


@pytest.mark.parametrize("proficiency", [1, 5])
def test_proficiency_at_the_bounds_is_accepted(proficiency):
    assert RepSkillFactory(proficiency=proficiency).pk


def test_a_rep_holds_a_skill_once():
    rep_skill = RepSkillFactory()
    with rejected():
        RepSkill.objects.create(rep=rep_skill.rep, skill=rep_skill.skill, proficiency=4)


@pytest.mark.parametrize("length", [dt.timedelta(0), dt.timedelta(hours=-1)])
def test_time_off_must_end_after_it_starts(length):
    rep = RepFactory()
    start = dt.datetime(2026, 12, 24, tzinfo=dt.UTC)
    with rejected():
        TimeOff.objects.create(rep=rep, start=start, end=start + length)


def test_time_off_form_error_speaks_ops_language():
    start = dt.datetime(2026, 12, 24, tzinfo=dt.UTC)
    time_off = TimeOffFactory.build(rep=RepFactory(), start=start, end=start)
    with pytest.raises(ValidationError) as err:
        time_off.full_clean()
    assert err.value.message_dict["end"] == ["Time off must end after it starts."]


def test_rep_on_time_off_now_is_seen_as_away():
    away = TimeOffFactory().rep
    assert away.is_on_time_off()
    assert not RepFactory().is_on_time_off()


@pytest.mark.parametrize(
    "hours, message",
    [
        ({"start": "18:00", "end": "08:00"}, "end after they start"),
        ({"start": "8am", "end": "18:00"}, "not a time like 08:00"),
        ({"start": "08:00", "end": "18:00", "days": [0]}, "ISO weekday"),
    ],
)
def test_bad_working_hours_are_explained(hours, message):
    rep = RepFactory.build(working_hours=hours, team=None)
    with pytest.raises(ValidationError) as err:
        rep.full_clean()
    assert message in str(err.value.message_dict["working_hours"])


def test_unknown_time_zone_is_explained():
    rep = RepFactory.build(timezone="Europe/Atlantis", team=None)
    with pytest.raises(ValidationError) as err:
        rep.full_clean()
    assert "not a time zone name" in str(err.value.message_dict["timezone"])
