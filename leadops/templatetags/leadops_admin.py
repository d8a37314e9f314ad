"""Small template helpers for the admin pages."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def jobs_run_inline() -> bool:
    """True when no REDIS_URL is set: routing jobs run inside the web request, so the queues stay empty."""
    return not settings.REDIS_URL
