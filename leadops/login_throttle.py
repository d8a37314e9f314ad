"""Login throttling for the admin and the reports log-in: a small cache-based limit.

After LOGIN_FAILURE_LIMIT failed log-ins for one username (from anywhere), or LOGIN_FAILURE_LIMIT × 4
from one address, within LOGIN_FAILURE_WINDOW_SECONDS, every log-in for that username (or from that
address) is refused with a clear message until the window has passed, even with the right password.
A successful log-in clears the username's count. The counters live in the shared cache (Redis when
REDIS_URL is set, so every gunicorn worker counts together); if the cache does not answer, log-ins
go on unthrottled (logged), as the API's rate limit does.
"""

from __future__ import annotations

import hashlib
import logging

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

logger = logging.getLogger(__name__)

ADDRESS_FACTOR = 4  # one address may fail for several usernames before it is stopped too


def _keys(username: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(username.strip().lower().encode("utf-8", "backslashreplace")).hexdigest()[:32]
    return f"leadops:login-fail:user:{digest}", f"leadops:login-fail:addr:{address}"


def _address(request) -> str:
    return (request.META.get("REMOTE_ADDR") or "unknown")[:64] if request is not None else "unknown"


def login_blocked(*, username: str, address: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    user_key, addr_key = _keys(username, address)
    try:
        counts = cache.get_many([user_key, addr_key])
    except Exception:
        logger.warning("login throttle cache unavailable; not throttling", exc_info=True)
        return False
    return counts.get(user_key, 0) >= limit or counts.get(addr_key, 0) >= limit * ADDRESS_FACTOR


def login_failed(*, username: str, address: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(username, address):
        try:
            if not cache.add(key, 1, window):
                cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window)
        except Exception:
            logger.warning("login throttle cache unavailable; not counting", exc_info=True)


def login_succeeded(*, username: str) -> None:
    try:
        cache.delete(_keys(username, "")[0])
    except Exception:
        logger.warning("login throttle cache unavailable", exc_info=True)


class ThrottledLoginMixin:
    """For Django's AuthenticationForm and the admin's: refuses while throttled, counts failures."""

    def clean(self):
        username = self.data.get("username") or ""
        address = _address(self.request)
        if username and login_blocked(username=username, address=address):
            minutes = max(1, settings.LOGIN_FAILURE_WINDOW_SECONDS // 60)
            raise forms.ValidationError(
                f"Too many failed log-ins. Log-in is paused for up to {minutes} minutes; try again later, "
                "or ask an admin to reset your password.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                login_failed(username=username, address=address)
            raise
        login_succeeded(username=username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
