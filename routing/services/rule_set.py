"""The rule-set version and the routing versions behind it: the only place the version moves.

Every change to the routing set-up (rules, territories, skills, teams, reps' routing fields,
rule-set options), from the admin, `load_routing` or a restore, ends in
`routing_version_capture`: it compares the set-up with the last recorded version and, when
something changed, bumps the rule-set version and records who, when, the changes in words and
the whole document (routing/versions.py stores it compactly). Assignments record the version
they were decided under, so an audit can tell which set-up made a decision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from routing.models import RoutingVersion, RuleSet
from routing.versions import (
    EMPTY_DOCUMENT,
    document_changes,
    settings_changes,
    version_document_remembered,
    version_payload,
    version_remember,
)


def _rule_set_locked() -> RuleSet:
    """The rule-set row, locked until the transaction ends (created first when missing)."""
    rule_set = RuleSet.objects.select_for_update().filter(pk=1).first()
    if rule_set is None:
        RuleSet.current()
        rule_set = RuleSet.objects.select_for_update().get(pk=1)
    return rule_set


def _rule_set_settings(rule_set: RuleSet) -> dict:
    return {"existing_owner_first": rule_set.existing_owner_first}


def routing_version_baseline() -> None:
    """Record the set-up as it is, before a change, when no version exists yet (history starts here).

    It takes the current rule-set number (no bump): the number already describes this set-up.
    """
    from routing.routing_file import routing_config_dump  # the file module records versions too

    if RoutingVersion.objects.exists():
        return
    rule_set = RuleSet.current()
    document = routing_config_dump()
    if not any(document.values()):
        return  # nothing set up yet: the first change is compared with the empty set-up
    counts = ", ".join(f"{len(document[s])} {s}" for s in document)
    full, payload = version_payload(number=rule_set.version, document=document, previous=None)
    RoutingVersion.objects.create(
        number=rule_set.version,
        created_at=timezone.now(),
        who="history starts",
        changes=[f"the set-up as it was when history started: {counts}"],
        full=full,
        payload=payload,
        settings=_rule_set_settings(rule_set),
    )


def routing_version_capture(
    *, who: str, user=None, first_changes: list[str] = (), before: dict | None = None
) -> RoutingVersion | None:
    """Record the current routing set-up as a new version if it differs from the last one.

    Returns the new version, or None when nothing changed (no version, the number stays).
    `first_changes` lead the changes in words (a restore says `restored from vN`). The words
    compare with `before` (the set-up before this change, when the caller read it) or else with
    the last version; the stored document always builds on the last version. Call it
    inside the transaction that made the change, after `routing_version_baseline` was called
    before it: it locks the rule-set row, so two saves at once are recorded one after the
    other, each against the version before it.
    """
    from routing.routing_file import routing_config_dump

    # No savepoint of its own: a failure here fails the change it records (a few round trips less per save).
    with transaction.atomic(savepoint=False):
        rule_set = _rule_set_locked()
        last = RoutingVersion.objects.order_by("-number").values_list("number", "settings", "created_at").first()
        document, settings = routing_config_dump(), _rule_set_settings(rule_set)
        previous = version_document_remembered(last[0], last[2]) if last else None
        words_from = before if before is not None else (previous or EMPTY_DOCUMENT)
        changes = settings_changes(last[1] if last else settings, settings) + document_changes(words_from, document)
        if not changes:
            return None
        # The row is locked: nobody else moves the number before this transaction ends.
        RuleSet.objects.filter(pk=1).update(version=F("version") + 1)
        number = rule_set.version + 1
        full, payload = version_payload(number=number, document=document, previous=previous)
        version = RoutingVersion.objects.create(
            number=number,
            created_at=timezone.now(),
            user=user if getattr(user, "pk", None) else None,
            who=who[:150],
            changes=[*first_changes, *changes],
            full=full,
            payload=payload,
            settings=settings,
        )
        version_remember(number, version.created_at, document)
        return version


@contextmanager
def routing_change(*, who: str, user=None) -> Iterator[None]:
    """Run a change to the routing set-up and record it as one version (or none if nothing changed).

    The admin wraps a whole page save (the object and its inlines), a list-page save and an
    action in one of these, so a page makes one version, not one per row.
    """
    with transaction.atomic():
        routing_version_baseline()
        yield
        routing_version_capture(who=who, user=user)
