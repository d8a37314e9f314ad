"""A decision's reason trace in words: the one renderer the admin, the API, e-mail, Slack and /queue/ use.

`reason_html` for pages, `reason_text` for plain-text mail and Slack (one line per step),
`reason_summary` for one line (list columns, subjects).
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

# The engine's trace (routing.engine.core, Decision.reason): {"outcome", "existing_owner"?,
# "rules": [{"rule", "result", "failed"?, "rep"?, "strategy"?, "territory"?, "skipped"?: [{"rep",
# "reason"}], "territories"? / "widened_from"?: [{"territory", "skipped"}]}]}. Unknown keys are
# shown as they are named, so a richer trace still reads.
TRACE_SHOWN = ("rule", "result", "failed", "rep", "strategy", "territory", "skipped", "territories", "widened_from")


def _words(value) -> str:
    return "—" if value in (None, "") else str(value).replace("_", " ")


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)}: {_plain(v)}" for k, v in value.items() if not k.endswith("_id"))
    return _words(value)


def _skipped(skipped) -> str:
    if not skipped:
        return ""
    return "skipped " + ", ".join(
        f"{s.get('rep', '?')} ({_words(s.get('reason'))})" if isinstance(s, dict) else _plain(s) for s in skipped
    )


def _rule_entry(entry) -> str:
    if not isinstance(entry, dict):
        return format_html("{}", _plain(entry))
    parts = [_words(entry.get("result"))]
    if entry.get("failed"):
        parts.append(f"condition not met: {entry['failed']}")
    if entry.get("rep") is not None:
        parts.append(f"to {entry['rep']}" + (f" by {_words(entry['strategy'])}" if entry.get("strategy") else ""))
    if entry.get("territory"):
        parts.append(f"territory {entry['territory']}")
    for key in ("territories", "widened_from"):
        for level in entry.get(key) or []:
            parts.append(
                f"{_words(key)} {level.get('territory') or 'none'}: {_skipped(level.get('skipped')) or 'no reps'}"
            )
    if entry.get("skipped"):
        parts.append(_skipped(entry["skipped"]))
    parts += [f"{_words(k)}: {_plain(v)}" for k, v in entry.items() if k not in TRACE_SHOWN and not k.endswith("_id")]
    return format_html("<strong>{}</strong> — {}", entry.get("rule") or "—", "; ".join(parts))


def reason_html(reason) -> str:
    """A decision's reason trace, readable: outcome, rules tried and why each did not decide, reps skipped."""
    if not reason:
        return "—"
    if not isinstance(reason, dict):
        return format_html("{}", _plain(reason))
    rows, shown = [], set()
    if reason.get("manual"):
        rows.append(
            format_html(
                "<li>Reassigned by hand by {} from {} to {}</li>",
                reason.get("by") or "—",
                reason.get("from") or "nobody",
                reason.get("rep") or "—",
            )
        )
        shown = {"manual", "by", "from", "rep", "from_status"}
    elif reason.get("claimed"):
        rows.append(
            format_html(
                "<li>Claimed by {} from the pool of rule “{}”</li>", reason.get("rep") or "—", reason.get("rule") or "—"
            )
        )
        shown = {"claimed", "by", "rep", "rule"}
    for key, value in reason.items():
        if key in shown or key.endswith("_id"):
            continue
        if key == "rules":
            items = format_html_join("", "<li>{}</li>", ((_rule_entry(e),) for e in value)) or mark_safe(
                "<li>none</li>"
            )
            rows.append(format_html("<li>Rules tried, in order:<ol>{}</ol></li>", items))
        else:
            rows.append(format_html("<li>{}: {}</li>", _words(key).capitalize(), _plain(value)))
    return format_html('<ul class="reason-trace">{}</ul>', format_html_join("", "{}", ((r,) for r in rows)))


def _rule_entry_text(entry) -> str:
    if not isinstance(entry, dict):
        return _plain(entry)
    parts = [_words(entry.get("result"))]
    if entry.get("failed"):
        parts.append(f"condition not met: {entry['failed']}")
    if entry.get("rep") is not None:
        parts.append(f"to {entry['rep']}" + (f" by {_words(entry['strategy'])}" if entry.get("strategy") else ""))
    if entry.get("skipped"):
        parts.append(_skipped(entry["skipped"]))
    return f"{entry.get('rule') or '—'}: {'; '.join(parts)}"


def reason_summary(reason) -> str:
    """One line: who decided and how (the deciding rule, a claim or a hand reassignment)."""
    if not isinstance(reason, dict) or not reason:
        return "—"
    if reason.get("manual"):
        return f"Reassigned by hand by {reason.get('by') or '—'}"
    if reason.get("claimed"):
        return f"Claimed by {reason.get('rep') or '—'} from the pool of rule “{reason.get('rule') or '—'}”"
    rules = reason.get("rules") or []
    deciding = next((e for e in reversed(rules) if isinstance(e, dict) and e.get("rep") is not None), None)
    if deciding:
        how = f" by {_words(deciding['strategy'])}" if deciding.get("strategy") else ""
        return f"Rule “{deciding.get('rule') or '—'}”{how}"
    return _words(reason.get("outcome")).capitalize()


def reason_text(reason) -> str:
    """The whole trace as plain text, one step a line (e-mail, Slack)."""
    if not isinstance(reason, dict) or not reason:
        return "—"
    lines = [reason_summary(reason)]
    for entry in reason.get("rules") or []:
        lines.append(f"- {_rule_entry_text(entry)}")
    return "\n".join(lines)
