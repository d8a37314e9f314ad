"""The rule-set version: every saved change to rules, conditions or pools bumps it.

Assignments record the version they were decided under, so an audit can tell which
configuration made a decision.
"""

from django.db import transaction
from django.db.models import F

from routing.models import RuleSet


def rule_set_bump_version() -> int:
    """Bump the version atomically (two ops saving at once both count) and return the new one."""
    with transaction.atomic():
        RuleSet.current()
        RuleSet.objects.filter(pk=1).update(version=F("version") + 1)
        return RuleSet.objects.values_list("version", flat=True).get(pk=1)
