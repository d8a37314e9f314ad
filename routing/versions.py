"""Routing versions: the routing document stored compactly, read back, and compared in words.

The document is the routing-file format (routing/routing_file.py's dump): sections of entries
keyed by their natural key. A version stores either the whole document (every FULL_EVERY-th
version, and the first) or only what changed since the version before: per section the entries
set or dropped, and the key order when it moved. Both are zlib-compressed JSON. Reading version
N decompresses the last full document at or before N and applies the change sets after it.

The service that records versions is routing.services.rule_set.routing_version_capture.
"""

from __future__ import annotations

import json
import zlib

from django.db import transaction

from routing.models import Operator, RoutingVersion

FULL_EVERY = 25
SECTIONS = ("skills", "teams", "territories", "reps", "rules")
EMPTY_DOCUMENT = {section: [] for section in SECTIONS}
SECTION_KEY = {"teams": "name", "territories": "name", "reps": "email", "rules": "name"}
OP_WORDS = dict(Operator.choices)
WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def _key(section: str, entry) -> str:
    return entry if section == "skills" else entry[SECTION_KEY[section]]


def _keyed(section: str, entries: list) -> dict:
    return {_key(section, e): e for e in entries}


def _pack(data) -> bytes:
    return zlib.compress(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def _unpack(blob) -> dict:
    return json.loads(zlib.decompress(bytes(blob)))


def document_delta(before: dict, after: dict) -> dict:
    """What changed from `before` to `after`, per section: entries set, keys dropped, new order."""
    delta = {}
    for section in SECTIONS:
        old, new = _keyed(section, before.get(section, [])), _keyed(section, after.get(section, []))
        part = {}
        changed = {k: v for k, v in new.items() if old.get(k) != v}
        if changed:
            part["set"] = changed
        dropped = [k for k in old if k not in new]
        if dropped:
            part["drop"] = dropped
        if list(new) != list(old):
            part["order"] = list(new)
        if part:
            delta[section] = part
    return delta


def document_apply(document: dict, delta: dict) -> dict:
    out = {}
    for section in SECTIONS:
        entries = _keyed(section, document.get(section, []))
        part = delta.get(section)
        if not part:
            out[section] = list(entries.values())
            continue
        for key in part.get("drop", ()):
            entries.pop(key, None)
        entries.update(part.get("set", {}))
        out[section] = [entries[k] for k in part.get("order", list(entries))]
    return out


def version_payload(*, number: int, document: dict, previous: dict | None) -> tuple[bool, bytes]:
    """(full, payload) for version `number`: the whole document every FULL_EVERY-th version."""
    if previous is None or number % FULL_EVERY == 0:
        return True, _pack(document)
    return False, _pack(document_delta(previous, document))


# The documents of the last versions this process recorded or read for a capture, by (number, created_at):
# a save compares with the last version, which is usually the one this process recorded just before.
# Only committed versions are kept (a rolled-back one is never mistaken for a later one of that number).
_REMEMBERED: dict[tuple, dict] = {}
REMEMBERED_MAX = 4


def version_remember(number: int, created_at, document: dict) -> None:
    """Keep version `number`'s document in memory once the transaction commits (never mutate it afterwards)."""

    def keep() -> None:
        while len(_REMEMBERED) >= REMEMBERED_MAX:
            _REMEMBERED.pop(next(iter(_REMEMBERED)))
        _REMEMBERED[(number, created_at)] = document

    transaction.on_commit(keep)


def version_document_remembered(number: int, created_at) -> dict | None:
    """Version `number`'s document, from memory when this process recorded or read it (read-only: shared)."""
    document = _REMEMBERED.get((number, created_at))
    if document is None:
        document = version_document(number)
        if document is not None:
            version_remember(number, created_at, document)
    return document


def version_document(number: int) -> dict | None:
    """Version `number`'s document (None when no such version): one query, then zlib and dict work."""
    rows = list(
        RoutingVersion.objects.filter(number__lte=number)
        .filter(number__gte=_last_full_number(number))
        .order_by("number")
        .values_list("number", "full", "payload")
    )
    if not rows or rows[-1][0] != number:
        return None
    document = None
    for _, full, payload in rows:
        data = _unpack(payload)
        document = data if full or document is None else document_apply(document, data)
    return document


def _last_full_number(number: int) -> int:
    return (
        RoutingVersion.objects.filter(number__lte=number, full=True)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
        or 0
    )


# --- changes in words ---------------------------------------------------------------------


def _words(value) -> str:
    if value is None or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"start", "end", "days"}:
            days = ", ".join(WEEKDAYS.get(d, str(d)) for d in value["days"])
            return f"{value['start']}–{value['end']} {days}"
        if set(value) == {"start", "end"}:
            return f"{value['start'][:16].replace('T', ' ')} – {value['end'][:16].replace('T', ' ')}"
        return ", ".join(f"{k} {_words(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def condition_words(condition: dict) -> str:
    op = OP_WORDS.get(condition.get("op"), condition.get("op"))
    if condition.get("op") == "is_empty":
        return f"{condition.get('field')} {op}"
    value = condition.get("value")
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else _words(value)
    return f"{condition.get('field')} {op} {shown}"


def _field_changes(old: dict, new: dict, skip=()) -> list[str]:
    return [f"{k} {_words(old.get(k))} → {_words(new.get(k))}" for k in new if k not in skip and old.get(k) != new[k]]


def _condition_changes(old: list, new: list) -> list[str]:
    out = []
    for i in range(max(len(old), len(new))):
        before, after = (old[i] if i < len(old) else None), (new[i] if i < len(new) else None)
        if before == after:
            continue
        if before is None:
            out.append(f"condition added: {condition_words(after)}")
        elif after is None:
            out.append(f"condition removed: {condition_words(before)}")
        else:
            out.append(f"condition {i + 1}: {condition_words(before)} → {condition_words(after)}")
    return out


def _hand_back_words(minutes) -> str:
    if minutes is None:
        return "never (their leads wait)"
    return "at once" if minutes == 0 else f"after {minutes} min"


def _entry_changes(section: str, old: dict, new: dict) -> list[str]:
    if section == "teams":
        words = _field_changes(old, new, skip=("away_hand_back_after_minutes",))
        before, after = old.get("away_hand_back_after_minutes"), new.get("away_hand_back_after_minutes")
        if before != after:  # a document from before the field existed has no key: the same as null
            words.append(
                "hand back uncontacted leads of reps on time off "
                f"{_hand_back_words(before)} → {_hand_back_words(after)}"
            )
        return words
    if section == "rules":
        words = _field_changes(old, new, skip=("conditions", "pool"))
        words += _condition_changes(old.get("conditions", []), new.get("conditions", []))
        words += [f"pool {c}" for c in _field_changes(old.get("pool", {}), new.get("pool", {}))]
        return words
    return _field_changes(old, new)


SINGULAR = {"skills": "skill", "teams": "team", "territories": "territory", "reps": "rep", "rules": "rule"}


def _label(section: str, key: str) -> str:
    return f"{SINGULAR[section]} {key}" if section == "reps" else f'{SINGULAR[section]} "{key}"'


def document_changes(before: dict, after: dict) -> list[str]:
    """The differences in ops language: `rule "DACH airlines": priority 10 → 5`, `rule "Spain SMB" added`."""
    lines = []
    for section in SECTIONS:
        old, new = _keyed(section, before.get(section, [])), _keyed(section, after.get(section, []))
        for key, entry in new.items():
            if key not in old:
                lines.append(f"{_label(section, key)} added")
            elif old[key] != entry:
                lines += [f"{_label(section, key)}: {c}" for c in _entry_changes(section, old[key], entry)]
        lines += [f"{_label(section, key)} removed" for key in old if key not in new]
    return lines


def settings_changes(before: dict, after: dict) -> list[str]:
    return [
        f"rule set: {k.replace('_', ' ')} {_words(before.get(k))} → {_words(v)}"
        for k, v in after.items()
        if before.get(k) != v
    ]
