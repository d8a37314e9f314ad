"""A decision's reason trace in words: the one renderer the admin, the API, e-mail, Slack and /queue/ use.

`reason_html` for pages, `reason_text` for plain-text mail and Slack (one line per step),
`reason_summary` for one line (list columns, subjects). Each reads the deciding rule first and
why this rep ("Round robin in “DACH mid-market”: Ana Ruiz was next in the rotation; skipped Bo
Berg (at capacity)"), then the rules tried before it, folded. A re-route says what caused it:
callers pass `cause`, made by `reroute_cause` from the previous assignment's `end_reason`.

The engine's trace (routing.engine.core, Decision.reason):
`{"outcome", "existing_owner"?: [{"rep", "via", "result"}], "rules": [{"rule", "result"?, "failed"?,
"rep"?, "strategy"?, "territory"?, "skipped"?: [{"rep", "reason"}], "territories"? / "widened_from"?:
[{"territory", "skipped"}]}]}`; a hand reassignment `{"manual": true, "by", "from", "rep"}`; a claim
`{"claimed": true, "rule", "rep", "by"}`. A `version` key, when present, is ignored. Unknown words
are shown with their underscores turned into spaces, so a richer trace still reads.
"""

from __future__ import annotations

import ast

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from routing.engine import vocabulary

# Strategy names and refusal reasons come from the engine's vocabulary (routing/engine/vocabulary.py),
# plus the ways a person decides. Results and the sentence forms of operators and facts ("company
# size is at least 1000") are said here, the one renderer; tests pin that they cover the engine's names.
STRATEGY_LABELS = {
    **vocabulary.STRATEGY_LABELS,
    "existing_owner": "Existing owner",
    "manual": "Reassigned by hand",
    "pool_claim": "Claimed from a pool",
}
# Why this rep and not another, per strategy ("{rep} …").
STRATEGY_WHY = {
    "round_robin": "was next in the rotation",
    "weighted": "was next in the weighted rotation",
    "load_balanced": "had the lowest load",
    "skill_score": "had the best skill match",
    "performance": "was next by conversion rate",
    "direct": "was the first named rep free to take it",
}
# Why a rep was passed over: declared with the engine's refusal codes (routing/engine/vocabulary.py).
REFUSAL_LABELS = vocabulary.REFUSAL_LABELS
RESULT_LABELS = {
    "no_match": "conditions not met",
    "no_eligible_rep": "no rep in the pool could take it",
    "empty_pool": "the pool has no active rep",
    "assigned": "assigned",
    "pooled": "put in the team pool",
    "unroutable": "unroutable",
}
OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "starts_with": "starts with",
    "gte": "is at least",
    "lte": "is at most",
    "between": "is between",
    "is_empty": "is empty",
    "is_not_empty": "is not empty",
    "in_territory": "is in territory",
    "email_domain_in": "e-mail domain is one of",
}
FACT_LABELS = {
    "email": "e-mail",
    "email_domain": "e-mail domain",
    "first_name": "first name",
    "last_name": "last name",
    "company_size": "company size",
    "annual_revenue": "annual revenue",
    "postal_code": "postal code",
    "product_interest": "product interest",
}
VIA_LABELS = {
    "account": "owns the account of this e-mail domain",
    "earlier_lead": "owns an earlier lead of this e-mail",
}
# Why the previous assignment ended, as the cause of the next decision (Assignment.EndReason and
# the reasons other paths may write, e.g. an SLA breach).
CAUSE_LABELS = {
    "misrouted": "{rep} flagged it misrouted",
    "released": "{rep} released it",
    "deactivated": "{rep} was deactivated",
    "away": "{rep} is away",
    "sla_breach": "{rep} did not contact it within the SLA",
    "sla_breached": "{rep} did not contact it within the SLA",
    "reassigned": "",  # the new assignment's own trace says who moved it
    "rerouted": "it was waiting (in a pool, held or unroutable) and was tried again",
}


def words(value) -> str:
    """A slug in words: the label when we have one, else underscores as spaces."""
    if value in (None, ""):
        return "—"
    text = str(value)
    for table in (REFUSAL_LABELS, RESULT_LABELS, STRATEGY_LABELS):
        if text in table:
            return table[text]
    return text.replace("_", " ")


def strategy_label(strategy) -> str:
    return STRATEGY_LABELS.get(strategy or "", words(strategy))


def fact_label(field: str) -> str:
    if field.startswith("extra."):
        return f"{field[len('extra.') :]} (custom value)"
    return FACT_LABELS.get(field, field.replace("_", " "))


def _value_words(op: str, value) -> str:
    if op == "between" and isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{value[0]} and {value[1]}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def condition_words(field: str, op: str, value=None) -> str:
    """One condition as ops say it: "company size is at least 1000", "country is in territory DACH"."""
    if op == "in_territory":
        return f"in territory {value}"
    if op == "email_domain_in":
        return f"e-mail domain is one of {_value_words(op, value)}"
    if op == "is_empty":
        negate = value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0", "no"))
        return f"{fact_label(field)} {'is not empty' if negate else 'is empty'}"
    if op == "is_not_empty":
        return f"{fact_label(field)} is not empty"
    return f"{fact_label(field)} {OPERATOR_LABELS.get(op, words(op))} {_value_words(op, value)}"


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def failed_condition_words(text) -> str:
    """The engine names a failed condition "field op value" ("company_size gte 1000"); say it in words."""
    if not isinstance(text, str):
        return _plain(text)
    parts = text.split(" ", 2)
    if len(parts) >= 2 and parts[0] == "in_territory":
        return f"in territory {text.split(' ', 1)[1]}"
    if len(parts) >= 2 and parts[0] == "email_domain_in":
        return f"e-mail domain is one of {text.split(' ', 1)[1]}"
    if len(parts) >= 2 and parts[1] in OPERATOR_LABELS:
        return condition_words(parts[0], parts[1], _literal(parts[2]) if len(parts) == 3 else None)
    return text.replace("_", " ")


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{words(k)}: {_plain(v)}" for k, v in value.items() if not k.endswith("_id"))
    return words(value)


def _skip_words(skip) -> str:
    if not isinstance(skip, dict):
        return _plain(skip)
    why = REFUSAL_LABELS.get(skip.get("reason"), words(skip.get("reason")))
    if skip.get("reason") == "at_capacity" and skip.get("open") is not None and skip.get("capacity") is not None:
        why += f" {skip['open']}/{skip['capacity']}"
    return f"{skip.get('rep', '?')} ({why})"


def _skipped(skipped) -> str:
    if not skipped:
        return ""
    return "skipped " + ", ".join(_skip_words(s) for s in skipped)


def _levels(entry) -> list[str]:
    """A "matched territory" rule's levels: where it looked and who could not take the lead there."""
    out = []
    for key in ("widened_from", "territories"):
        for level in entry.get(key) or []:
            if isinstance(level, dict):
                who = _skipped(level.get("skipped")) or "no reps there"
                out.append(f"in {level.get('territory') or 'no territory'}: {who}")
    return out


def _rule_name(entry) -> str:
    return f"“{entry.get('rule') or '—'}”"


def _deciding(rules):
    """The entry that decided (assigned, pooled or held), if any: the last one the engine wrote."""
    for entry in reversed(rules):
        if isinstance(entry, dict) and (
            entry.get("rep") is not None
            or entry.get("result") == "pooled"
            or str(entry.get("result", "")).endswith("; held")
        ):
            return entry
    return None


def _decision_head(entry) -> str:
    """ "Round robin in “DACH mid-market”: Ana Ruiz was next in the rotation" (one line)."""
    strategy = entry.get("strategy")
    where = f" in {_rule_name(entry)}"
    territory = f" (territory {entry['territory']})" if entry.get("territory") else ""
    result = str(entry.get("result") or "")
    if result.endswith("; held"):
        return f"Held in the pool of {_rule_name(entry)}{territory}: {words(result[: -len('; held')])}"
    if result == "pooled" or strategy == "pool":
        return f"Team pool{where}{territory}: waits for a member to claim it"
    why = STRATEGY_WHY.get(strategy, f"was chosen ({words(strategy)})")
    return f"{strategy_label(strategy)}{where}{territory}: {entry.get('rep')} {why}"


def _decision_details(entry) -> list[str]:
    details = [_skipped(entry["skipped"])] if entry.get("skipped") else []
    if entry.get("widened_from"):
        details.append("widened from " + "; ".join(_levels({"widened_from": entry["widened_from"]})))
    if entry.get("territories"):
        details += _levels({"territories": entry["territories"]})
    return details


def _tried_words(entry) -> str:
    """One rule tried before the deciding one: why it did not decide."""
    if not isinstance(entry, dict):
        return _plain(entry) if entry is not None else "—"
    if entry.get("failed"):
        return f"{_rule_name(entry)}: not met — {failed_condition_words(entry['failed'])}"
    parts = [words(entry.get("result"))]
    parts += [_skipped(entry.get("skipped"))] if entry.get("skipped") else []
    parts += _levels(entry)
    return f"{_rule_name(entry)}: {'; '.join(p for p in parts if p)}"


def _owner_words(tried) -> list[str]:
    out = []
    for step in tried or []:
        if not isinstance(step, dict):
            continue
        via = VIA_LABELS.get(step.get("via"), words(step.get("via")))
        if step.get("result") == "assigned":
            out.append(f"{step.get('rep')} {via}")
        else:
            out.append(f"{step.get('rep')} {via} but is {words(step.get('result'))}")
    return out


def reroute_cause(end_reason: str | None, *, rep: str | None = None, by: str | None = None) -> str:
    """Why a lead was routed again, from the previous assignment's end reason ("Bo Berg flagged it misrouted")."""
    if not end_reason:
        return ""
    text = CAUSE_LABELS.get(end_reason, words(end_reason)).format(rep=rep or "the rep")
    if text and by and end_reason in ("released", "deactivated"):
        text += f" (by {by})"
    return text


# Top-level keys the renderer reads; any other (from an older or richer trace) is shown as it is named.
KNOWN_KEYS = {"outcome", "rules", "existing_owner", "manual", "claimed", "by", "from", "rep", "rule", "from_status"}
KNOWN_KEYS |= {"version"}


def _other_keys(reason: dict) -> list[str]:
    out = []
    for key, value in reason.items():
        if key in KNOWN_KEYS or key.endswith("_id"):
            continue
        out.append(_skipped(value) if key == "skipped" else f"{words(key)}: {_plain(value)}")
    return out


class _Trace:
    """The parts of a trace every renderer says: cause, headline, details, earlier rules."""

    def __init__(self, reason: dict, cause: str = ""):
        self.cause = cause
        self.head, self.details, self.before = "", [], []
        rules = list(reason.get("rules") or [])
        if reason.get("manual"):
            self.head = f"Reassigned by hand by {reason.get('by') or '—'}"
            self.details = [f"from {reason.get('from') or 'nobody'} to {reason.get('rep') or '—'}"]
            return
        if reason.get("claimed"):
            self.head = f"Claimed by {reason.get('rep') or '—'} from the pool of “{reason.get('rule') or '—'}”"
            return
        owner = reason.get("existing_owner")
        if owner and not rules and any(isinstance(s, dict) and s.get("result") == "assigned" for s in owner):
            chosen = next(s for s in owner if isinstance(s, dict) and s.get("result") == "assigned")
            self.head = f"Existing owner: {chosen.get('rep')} {VIA_LABELS.get(chosen.get('via'), '')}".rstrip()
            self.details = _owner_words([s for s in owner if s is not chosen])
            return
        if owner:
            self.before.append("Existing owner first: " + "; ".join(_owner_words(owner)))
        deciding = _deciding(rules)
        if deciding is not None:
            self.head = _decision_head(deciding)
            self.details = _decision_details(deciding)
            rules = rules[: len(rules) - 1 - rules[::-1].index(deciding)]
        elif reason.get("outcome") == "unroutable":
            self.head = "Unroutable: no rule found a rep who could take it"
        else:
            self.head = words(reason.get("outcome")).capitalize() if reason.get("outcome") else "—"
        self.before += [_tried_words(e) for e in rules]
        self.details += _other_keys(reason)


def _trace(reason, cause) -> _Trace | None:
    if not isinstance(reason, dict) or not reason:
        return None
    return _Trace(reason, cause or "")


def reason_html(reason, *, cause: str = "") -> str:
    """The trace for pages: the cause (re-routes), the decision and why this rep, earlier rules folded."""
    trace = _trace(reason, cause)
    if trace is None:
        return "—" if not reason else format_html("{}", _plain(reason))
    parts = []
    if trace.cause:
        parts.append(format_html('<p class="reason-cause">Routed again because {}.</p>', trace.cause))
    detail = "; ".join(trace.details)
    parts.append(
        format_html(
            '<p class="reason-head"><strong>{}</strong>{}</p>',
            trace.head,
            format_html("; {}", detail) if detail else "",
        )
    )
    if trace.before:
        items = format_html_join("", "<li>{}</li>", ((line,) for line in trace.before))
        count = len(trace.before)
        label = f"{count} rule{'s' if count != 1 else ''} tried before"
        parts.append(format_html("<details><summary>{}</summary><ol>{}</ol></details>", label, items))
    return format_html('<div class="reason-trace">{}</div>', mark_safe("".join(parts)))


def reason_summary(reason, *, cause: str = "") -> str:
    """One line: the decision and why this rep ("Round robin in “DACH”: Ana Ruiz was next in the rotation")."""
    trace = _trace(reason, cause)
    if trace is None:
        return "—"
    return f"Routed again because {trace.cause}. {trace.head}" if trace.cause else trace.head


def reason_text(reason, *, cause: str = "") -> str:
    """The whole trace as plain text, one step a line (e-mail, Slack)."""
    trace = _trace(reason, cause)
    if trace is None:
        return "—"
    lines = [f"Routed again because {trace.cause}."] if trace.cause else []
    lines.append(trace.head + (f"; {'; '.join(trace.details)}" if trace.details else ""))
    if trace.before:
        lines.append("Rules tried before:")
        lines += [f"- {line}" for line in trace.before]
    return "\n".join(lines)


def assignment_causes(assignments) -> dict[int, str]:
    """For one lead's assignments (any order, `rep` loaded): each assignment's cause, from the one before it."""
    ordered = sorted(assignments, key=lambda a: (a.created_at, a.id))
    causes = {}
    for previous, current in zip(ordered, ordered[1:], strict=False):
        causes[current.id] = reroute_cause(previous.end_reason, rep=previous.rep.name if previous.rep_id else None)
    return causes
