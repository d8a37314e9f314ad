"""Integrations and their keys: a key is shown once, only its hash is stored."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from leadops.errors import IntakeError
from leadops.models import SOURCE_MAX, Integration


def integration_sources_clean(*, name: str, sources: Iterable[str], integration_id: int | None = None) -> list[str]:
    """The sources ops give an integration, trimmed and deduplicated; a source belongs to one integration, so one
    that is another integration's name or source is refused (IntakeError naming it and its owner)."""
    cleaned: list[str] = []
    for source in sources:
        source = source.strip()
        if not source or source == name[:SOURCE_MAX] or source in cleaned:
            continue
        if len(source) > SOURCE_MAX:
            raise IntakeError({"allowed_sources": [f"“{source[:80]}”: at most {SOURCE_MAX} characters."]})
        cleaned.append(source)
    wanted = {*cleaned, name[:SOURCE_MAX]}
    for other in Integration.objects.exclude(pk=integration_id).only("name", "allowed_sources"):
        taken = wanted.intersection(other.sources)
        if taken:
            field = "allowed_sources" if taken - {name[:SOURCE_MAX]} else "name"
            raise IntakeError({field: [f"“{sorted(taken)[0]}” is a source of the integration “{other.name}”."]})
    return cleaned


@transaction.atomic
def integration_create(
    *, name: str, rate_limit_per_minute: int | None = None, allowed_sources: Iterable[str] = ()
) -> tuple[Integration, str]:
    """Create an integration; return it and its key (the only time the key exists in clear)."""
    name = (name or "").strip()
    if not name:
        raise IntakeError({"name": ["Give the integration a name."]})
    if len(name) > 120:
        raise IntakeError({"name": ["At most 120 characters."]})
    if rate_limit_per_minute is not None and rate_limit_per_minute < 1:
        raise IntakeError({"rate_limit_per_minute": ["Must be 1 or more (empty = the server default)."]})
    if Integration.objects.filter(name=name).exists():
        raise IntakeError({"name": [f"An integration named “{name}” exists already."]})
    sources = integration_sources_clean(name=name, sources=allowed_sources)
    integration = Integration(name=name, rate_limit_per_minute=rate_limit_per_minute, allowed_sources=sources)
    key = integration.set_new_key()
    integration.save()
    return integration, key


@transaction.atomic
def integration_key_rotate(*, integration: Integration) -> str:
    """Give the integration a new key (the old one stops working at once) and re-activate it."""
    key = integration.set_new_key()
    integration.active = True
    integration.save(update_fields=["key_prefix", "key_hash", "active"])
    return key


def integrations_revoke(*, ids: Iterable[int]) -> int:
    """Revoke the keys of these integrations at once; return how many were active."""
    return Integration.objects.filter(pk__in=list(ids), active=True).update(active=False)
