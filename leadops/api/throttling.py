"""Per-integration rate limit: a fixed one-minute window counted in the shared Django cache.

The limit is Integration.rate_limit_per_minute, else settings.API_RATE_LIMIT_PER_MINUTE. The
counter is one atomic `incr` per request (Redis when REDIS_URL is set, so every gunicorn
worker counts into the same window). A window allows at most the limit; a burst straddling
two windows may see up to twice the limit in 60 s. If the cache does not answer, the
request is let through (leads are never refused because Redis is down).
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


WINDOW_SECONDS = 60
# In a request's environ: its count in the window, when leadops.api.lean counted it before handing it on.
COUNTED = "leadops.rate_limit_count"


def rate_limit_count(integration) -> int | None:
    """Count one request of this integration in the current window; the window's count, or None when
    the cache does not answer."""
    window = int(time.time() // WINDOW_SECONDS)
    # The key hash makes the counter unique to this integration's current key.
    key = f"leadops:throttle:{integration.pk}:{integration.key_hash[:12]}:{window}"
    try:
        return _count(key, WINDOW_SECONDS + 5)
    except Exception:
        logger.warning("rate-limit cache unavailable; letting the request through", exc_info=True)
        return None


def within_rate_limit(integration, count: int | None) -> bool:
    return count is None or count <= (integration.rate_limit_per_minute or settings.API_RATE_LIMIT_PER_MINUTE)


class IntegrationRateThrottle(BaseThrottle):
    window_seconds = WINDOW_SECONDS

    def allow_request(self, request, view):
        integration = getattr(request.user, "integration", None)
        if integration is None:
            return True  # staff with a session
        self._wait = self.window_seconds - (time.time() % self.window_seconds)
        count = request.META[COUNTED] if COUNTED in request.META else rate_limit_count(integration)
        return within_rate_limit(integration, count)

    def wait(self):
        return getattr(self, "_wait", None)


# INCR, and EXPIRE on the window's first request: one command, one round trip, atomic.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""


def _count(key: str, ttl: int) -> int:
    """Add one to the window's counter and return it: one scripted round trip on Redis (on
    the cache's own client), add + incr on other cache backends."""
    backend = getattr(cache, "_cache", None)
    client_of = getattr(backend, "get_client", None)
    if client_of is not None:  # django.core.cache.backends.redis.RedisCache
        real_key = cache.make_and_validate_key(key)
        # get_client() builds a new redis.Redis (its response-callback table included) per call:
        # keep the write client and its script on the backend (redis-py's pool handles forks).
        script = getattr(backend, "_leadops_count_script", None)
        if script is None:
            script = backend._leadops_count_script = client_of(real_key, write=True).register_script(_COUNT_SCRIPT)
        return script(keys=[real_key], args=[ttl])
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        return 1
