"""Webhook channels: the one service that makes one (admin and `create_webhook`)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from django.db import transaction

from leadops.errors import NotificationError
from notifications.models import Channel, Event
from reps.models import Team


def channel_events_clean(events: Sequence[str]) -> list[str]:
    cleaned = [e.strip() for e in events if e and e.strip()]
    unknown = [e for e in cleaned if e not in Event.values]
    if unknown:
        raise NotificationError(
            {"events": [f"Unknown event {', '.join(unknown)}; use {', '.join(Event.values)} (none = every event)."]}
        )
    return list(dict.fromkeys(cleaned))


def channel_url_clean(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotificationError({"url": [f"“{url}” is not an http(s) URL."]})
    return url


@transaction.atomic
def channel_create(
    *,
    name: str,
    url: str,
    format: str = Channel.Format.JSON,
    events: Sequence[str] = (),
    team: str | Team | None = None,
    active: bool = True,
) -> tuple[Channel, str]:
    """Make a channel and return it with its signing secret (shown once, never again)."""
    name = (name or "").strip()
    if not name:
        raise NotificationError({"name": ["Give the channel a name."]})
    if Channel.objects.filter(name=name).exists():
        raise NotificationError({"name": [f"A channel “{name}” exists already."]})
    if format not in Channel.Format.values:
        raise NotificationError({"format": [f"Use {' or '.join(Channel.Format.values)}."]})
    if isinstance(team, str):
        found = Team.objects.filter(name=team).first()
        if found is None:
            raise NotificationError({"team": [f"No team “{team}”."]})
        team = found
    channel = Channel(name=name, url=channel_url_clean(url), format=format, events=channel_events_clean(events))
    channel.team, channel.active = team, active
    secret = channel.set_new_secret()
    channel.save()
    return channel, secret
