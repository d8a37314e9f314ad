"""Template filters over routing.reasons, the one reason-trace renderer: `{{ a.reason|reason_summary }}`."""

from django import template

from routing import reasons

register = template.Library()


@register.filter
def reason_summary(reason) -> str:
    return reasons.reason_summary(reason)


@register.filter
def reason_html(reason) -> str:
    return reasons.reason_html(reason)  # already escaped and marked safe by format_html
