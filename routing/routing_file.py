"""The routing set-up as a file: load (validate everything, then upsert) and dump.

The format is PRODUCT.md's "Routing configuration as a file". Only natural keys are
required (skill name, team name, territory name, rep email, rule name); every other field
has the default documented in DEFAULTS below.

What a load does with what the file does not mention:
- rules absent from the file are deactivated (kept for the audit trail, never deleted), so a
  rule nobody can see in version control never routes a lead;
- skills, teams, territories and reps absent from the file are left as they are: reps hold
  leads and accounts, so removing one is an ops decision made in the admin.
Inside an entry the file is the truth: a field left out takes its default (a rep entry with
no "time_off" ends up with no time off; a rule with no "conditions" matches every lead).

Dump lists everything (inactive rules included) sorted by natural key (rules by priority,
then name), so dump → load changes nothing and dump → load → dump is byte-identical.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from leadops.errors import RoutingError
from reps.models import (
    Rep,
    RepSkill,
    SkillTag,
    Team,
    TimeOff,
    validate_proficiency,
    validate_timezone,
    validate_working_hours,
    weight_clean,
)
from routing.engine import TerritoryTree
from routing.models import (
    Operator,
    Rule,
    RuleCondition,
    RulePoolRep,
    SlaAction,
    Strategy,
    Territory,
    WhenNoneEligible,
    validate_condition,
)
from routing.services.reps import UNCONTACTED, reps_routing_update
from routing.services.rule_set import routing_version_baseline, routing_version_capture

MATCHED = "matched"
DEFAULT_DAYS = [1, 2, 3, 4, 5]
DEFAULTS = {
    "rep": {
        "capacity": 100,
        "daily_cap": 50,
        "weight": 1.0,
        "timezone": "UTC",
        "working_hours": None,
        "active": True,
        "notify_email": True,
        "team": None,
        "territories": [],
        "skills": {},
        "time_off": [],
    },
    "rule": {
        "priority": 100,
        "active": True,
        "conditions": [],
        "required_skills": [],
        "preferred_skills": [],
        "strategy": Strategy.ROUND_ROBIN.value,
        "when_none_eligible": WhenNoneEligible.NEXT_RULE.value,
        "requires_working_hours": False,
        "sla_minutes": None,
        "sla_action": SlaAction.NOTIFY.value,
        "claim_limit": None,
    },
    "territory": {"parent": None, "countries": [], "regions": [], "postal_prefixes": []},
    # null: a rep's leads wait while they are on time off; minutes: after that long, the leads they
    # have not contacted yet go back to routing (the sweep, routing/services/reps.py).
    "team": {"away_hand_back_after_minutes": None},
}
SECTIONS = ("skills", "teams", "territories", "reps", "rules")
SECTION_OF = {"skill": "skills", "team": "teams", "territory": "territories", "rep": "reps"}
NAME_LENGTH = 120  # the longest team, territory and rule name the database holds


def _q(value) -> str:
    """A value as the file spells it, quoted: "inn", 40, null."""
    return json.dumps(value, ensure_ascii=False)


class RoutingFileError(RoutingError):
    """The file cannot be loaded; `messages` name each bad entry and field."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__({"detail": messages})

    def __str__(self) -> str:
        return "\n".join(self.messages)


@dataclass
class LoadSummary:
    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SECTIONS, 0))
    deactivated_rules: list[str] = field(default_factory=list)
    rule_set_version: int | None = None  # set when the load made a new routing version
    changes: list[str] = field(default_factory=list)  # that version's changes in words

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or any(self.updated.values()) or bool(self.deactivated_rules)


# --- dump -------------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _hours(value) -> dict | None:
    if not value:
        return None
    return {"start": value["start"], "end": value["end"], "days": list(value.get("days", DEFAULT_DAYS))}


def _territories_parents_first(territories: list[Territory]) -> list[Territory]:
    by_name = {t.name: t for t in territories}
    names = {t.pk: t.name for t in territories}
    tree = TerritoryTree({t.name: names.get(t.parent_id) for t in territories})
    return [by_name[name] for name in tree.parents_first(by_name, sort_key=str)]


def _dump_territory(t: Territory, names: dict[int, str]) -> dict:
    return {
        "name": t.name,
        "parent": names.get(t.parent_id),
        "countries": list(t.countries),
        "regions": list(t.regions),
        "postal_prefixes": list(t.postal_prefixes),
    }


def _grouped(rows) -> dict:
    out: dict = {}
    for key, *value in rows:
        out.setdefault(key, []).append(value[0] if len(value) == 1 else tuple(value))
    return out


def _dump_reps() -> list[dict]:
    """Reps in email order, from plain rows (no model instances: a version is dumped on every save)."""
    territories = _grouped(Rep.territories.through.objects.values_list("rep_id", "territory__name"))
    skills = _grouped(RepSkill.objects.values_list("rep_id", "skill__name", "proficiency"))
    time_off = _grouped(TimeOff.objects.values_list("rep_id", "start", "end"))
    rows = Rep.objects.order_by("email").values_list(
        "id",
        "email",
        "name",
        "team__name",
        "capacity",
        "daily_cap",
        "weight",
        "timezone",
        "working_hours",
        "active",
        "notify_email",
    )
    return [
        {
            "email": email,
            "name": name,
            "team": team,
            "territories": sorted(territories.get(pk, ())),
            "skills": dict(sorted(skills.get(pk, ()))),
            "capacity": capacity,
            "daily_cap": daily_cap,
            "weight": float(weight),
            "timezone": tz,
            "working_hours": _hours(hours),
            "active": active,
            "notify_email": notify_email,
            "time_off": [{"start": _iso(start), "end": _iso(end)} for start, end in sorted(time_off.get(pk, ()))],
        }
        for pk, email, name, team, capacity, daily_cap, weight, tz, hours, active, notify_email in rows
    ]


def _dump_rules() -> list[dict]:
    """Rules by priority, then name, from plain rows."""
    conditions = _grouped(
        RuleCondition.objects.order_by("rule_id", "position", "id").values_list("rule_id", "field", "op", "value")
    )
    listed = _grouped(RulePoolRep.objects.order_by("rule_id", "position", "id").values_list("rule_id", "rep__email"))
    required = _grouped(Rule.required_skills.through.objects.values_list("rule_id", "skilltag__name"))
    preferred = _grouped(Rule.preferred_skills.through.objects.values_list("rule_id", "skilltag__name"))
    rows = Rule.objects.order_by("priority", "name").values_list(
        "id",
        "name",
        "priority",
        "active",
        "pool_team__name",
        "pool_territory__name",
        "pool_matched_territory",
        "strategy",
        "when_none_eligible",
        "requires_working_hours",
        "sla_minutes",
        "sla_action",
        "claim_limit",
    )
    return [
        {
            "name": name,
            "priority": priority,
            "active": active,
            "conditions": [{"field": f, "op": op, "value": v} for f, op, v in conditions.get(pk, ())],
            "pool": {"team": team, "reps": listed.get(pk, []), "territory": MATCHED if matched else territory},
            "required_skills": sorted(required.get(pk, ())),
            "preferred_skills": sorted(preferred.get(pk, ())),
            "strategy": strategy,
            "when_none_eligible": when_none,
            "requires_working_hours": working_hours,
            "sla_minutes": sla,
            "sla_action": sla_action,
            "claim_limit": claim_limit,
        }
        for (
            pk,
            name,
            priority,
            active,
            team,
            territory,
            matched,
            strategy,
            when_none,
            working_hours,
            sla,
            sla_action,
            claim_limit,
        ) in rows
    ]


def routing_config_dump() -> dict:
    """The whole routing set-up as a document in the routing-file format (a few queries, no per-row ones)."""
    territories = _territories_parents_first(list(Territory.objects.all()))
    names = {t.pk: t.name for t in territories}
    return {
        "skills": sorted(SkillTag.objects.values_list("name", flat=True)),
        "teams": [
            {"name": name, "away_hand_back_after_minutes": minutes}
            for name, minutes in Team.objects.order_by("name").values_list("name", "away_hand_back_after_minutes")
        ],
        "territories": [_dump_territory(t, names) for t in territories],
        "reps": _dump_reps(),
        "rules": _dump_rules(),
    }


def routing_config_dumps(document: dict | None = None) -> str:
    """The dump (or a version's `document`) as stable JSON text (what `dump_routing` prints)."""
    return json.dumps(routing_config_dump() if document is None else document, indent=2, ensure_ascii=False) + "\n"


# --- validation -------------------------------------------------------------------------


class _Checker:
    """Walks the document, collecting every error; returns entries normalised to the dump's shape."""

    def __init__(self, data):
        self.errors: list[str] = []
        self.data = data

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def section(self, name: str) -> list:
        value = self.data.get(name, [])
        if not isinstance(value, list):
            self.error(name, "must be a list")
            return []
        return value

    def entry(self, section: str, index: int, raw, key: str, allowed) -> tuple[str, dict | None]:
        where = f"{section}[{index}]"
        if not isinstance(raw, dict):
            self.error(where, "must be an object")
            return where, None
        name = raw.get(key)
        if not isinstance(name, str) or not name.strip():
            self.error(where, f'"{key}" is required')
            return where, None
        where = f"{where} {_q(name)}"
        if len(name) > NAME_LENGTH:
            self.error(where, f'"{key}" is longer than {NAME_LENGTH} characters')
        for unknown in sorted(set(raw) - set(allowed)):
            self.error(where, f'"{unknown}" is not a field here; use {", ".join(allowed)}')
        return where, raw

    def text_list(self, where: str, value) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(where, "must be a list of names or codes")
            return []
        return [v.strip() for v in value]

    def boolean(self, where: str, value) -> bool:
        if not isinstance(value, bool):
            self.error(where, f"{_q(value)} is not true or false")
        return bool(value)

    def whole(self, where: str, value, *, minimum: int = 0, nullable: bool = False) -> int | None:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(where, f"{_q(value)} is not a whole number ≥ {minimum}")
            return None
        return value

    def known(self, where: str, name, known: set[str], what: str) -> None:
        if name not in known:
            self.error(
                where, f'{_q(name)} is not a known {what}; list it under "{SECTION_OF[what]}" or create it first'
            )


def _check(data) -> dict:
    """Validate the whole document; raise RoutingFileError listing every problem, else return it normalised."""
    if not isinstance(data, dict):
        raise RoutingFileError(["the file must hold one JSON object with skills, teams, territories, reps and rules"])
    check = _Checker(data)
    for unknown in sorted(set(data) - set(SECTIONS)):
        check.error(unknown, f"is not a section; use {', '.join(SECTIONS)}")
    out: dict = {name: {} for name in SECTIONS}
    _check_skills(check, out)
    _check_teams(check, out)
    # Names the later sections may refer to: the file's own and the stored ones.
    skills = out["skills"].keys() | set(SkillTag.objects.values_list("name", flat=True))
    teams = out["teams"].keys() | set(Team.objects.values_list("name", flat=True))
    territories = _check_territories(check, out)
    _check_reps(check, out, skills=skills, teams=teams, territories=territories)
    reps = out["reps"].keys() | set(Rep.objects.values_list("email", flat=True))
    _check_rules(check, out, skills=skills, teams=teams, territories=territories, reps=reps)
    if check.errors:
        raise RoutingFileError(check.errors)
    return out


def _check_skills(check: _Checker, out: dict) -> None:
    for i, name in enumerate(check.section("skills")):
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 60:
            check.error(f"skills[{i}]", f"{_q(name)} is not a skill name (text, at most 60 characters)")
        elif name.strip() in out["skills"]:
            check.error(f"skills[{i}]", f'"{name}" is listed twice')
        else:
            out["skills"][name.strip()] = name.strip()


def _check_teams(check: _Checker, out: dict) -> None:
    for i, raw in enumerate(check.section("teams")):
        where, entry = check.entry("teams", i, raw, "name", ["name", *DEFAULTS["team"]])
        if entry is not None:
            if entry["name"] in out["teams"]:
                check.error(where, "is listed twice")
            minutes = entry.get("away_hand_back_after_minutes")
            if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0):
                check.error(
                    f"{where}: away_hand_back_after_minutes",
                    f"{_q(minutes)} is not a number of minutes (a whole number ≥ 0), or null to keep the leads of "
                    "reps on time off waiting for them",
                )
                minutes = None
            out["teams"][entry["name"]] = {"name": entry["name"], "away_hand_back_after_minutes": minutes}


def _check_territories(check: _Checker, out: dict) -> set[str]:
    """Check the territories section; return every territory name known after the load."""
    stored_parents = dict(Territory.objects.values_list("name", "parent__name"))
    for i, raw in enumerate(check.section("territories")):
        where, entry = check.entry("territories", i, raw, "name", ["name", *DEFAULTS["territory"]])
        if entry is None:
            continue
        if entry["name"] in out["territories"]:
            check.error(where, "is listed twice")
        t = {"name": entry["name"], **DEFAULTS["territory"]}
        t["parent"] = entry.get("parent")
        for key in ("countries", "regions", "postal_prefixes"):
            t[key] = check.text_list(f"{where}: {key}", entry.get(key, []))
        t["countries"] = [c.upper() for c in t["countries"]]
        bad = [c for c in t["countries"] if len(c) != 2 or not c.isalpha()]
        if bad:
            check.error(f"{where}: countries", f"not ISO 3166-1 alpha-2 codes: {', '.join(bad)}")
        out["territories"][entry["name"]] = t
    territories = out["territories"].keys() | stored_parents.keys()
    tree = TerritoryTree({**stored_parents, **{n: t["parent"] for n, t in out["territories"].items()}})
    for name, t in out["territories"].items():
        if t["parent"] is not None:
            check.known(f'territories "{name}": parent', t["parent"], territories, "territory")
        if tree.inside_itself(name):
            check.error(f'territories "{name}": parent', "makes territories sit inside themselves")
    return territories


def _check_reps(check: _Checker, out: dict, *, skills, teams, territories) -> None:
    rep_fields = ["email", "name", *DEFAULTS["rep"]]
    for i, raw in enumerate(check.section("reps")):
        where, entry = check.entry("reps", i, raw, "email", rep_fields)
        if entry is not None:
            rep = _check_rep(check, where, entry, skills=skills, teams=teams, territories=territories)
            if rep["email"] in out["reps"]:
                check.error(where, "is listed twice")
            out["reps"][rep["email"]] = rep


def _check_rules(check: _Checker, out: dict, *, skills, teams, territories, reps) -> None:
    for i, raw in enumerate(check.section("rules")):
        where, entry = check.entry("rules", i, raw, "name", ["name", *DEFAULTS["rule"], "pool"])
        if entry is not None:
            if entry["name"] in out["rules"]:
                check.error(where, "is listed twice")
            out["rules"][entry["name"]] = _check_rule(
                check, where, entry, skills=skills, teams=teams, territories=territories, reps=reps
            )


def routing_config_check(data) -> dict:
    """Validate a routing document without loading it (simulation of a draft): RoutingFileError
    names each bad entry and field; otherwise the entries by section and natural key, each in
    the dump's shape with every default filled in."""
    return _check(data)


def _check_rep(check: _Checker, where: str, entry: dict, *, skills, teams, territories) -> dict:
    email = entry["email"].strip()
    try:
        validate_email(email)
    except ValidationError:
        check.error(f"{where}: email", "is not an email address")
    rep = {"email": email, "name": entry.get("name") or email.split("@")[0], **DEFAULTS["rep"]}
    rep.update({k: entry[k] for k in DEFAULTS["rep"] if k in entry})
    if not isinstance(rep["name"], str):
        check.error(f"{where}: name", "must be text")
    if rep["team"] is not None:
        check.known(f"{where}: team", rep["team"], teams, "team")
    rep["territories"] = sorted(check.text_list(f"{where}: territories", rep["territories"]))
    for name in rep["territories"]:
        check.known(f"{where}: territories", name, territories, "territory")
    if not isinstance(rep["skills"], dict):
        check.error(f"{where}: skills", 'must map skill names to proficiency 1–5, e.g. {"airline": 4}')
        rep["skills"] = {}
    for name, level in rep["skills"].items():
        check.known(f"{where}: skills.{name}", name, skills, "skill")
        try:
            validate_proficiency(level)
        except ValidationError:
            check.error(f"{where}: skills.{name}", f"proficiency {_q(level)} is not 1 (basic) to 5 (expert)")
    rep["skills"] = dict(sorted(rep["skills"].items()))
    rep["capacity"] = check.whole(f"{where}: capacity", rep["capacity"])
    rep["daily_cap"] = check.whole(f"{where}: daily_cap", rep["daily_cap"])
    weight = rep["weight"]
    try:
        rep["weight"] = float(weight_clean(weight))
    except ValidationError:
        check.error(f"{where}: weight", f"{_q(weight)} is not a weight above 0 (1 = full share, 0.5 = ramping)")
    for key, validator in (("timezone", validate_timezone), ("working_hours", validate_working_hours)):
        try:
            validator(rep[key])
        except ValidationError as err:
            check.error(f"{where}: {key}", " ".join(err.messages).replace("“", '"').replace("”", '"'))
    if isinstance(rep["working_hours"], dict):
        rep["working_hours"] = _hours(rep["working_hours"])
    rep["active"] = check.boolean(f"{where}: active", rep["active"])
    rep["notify_email"] = check.boolean(f"{where}: notify_email", rep["notify_email"])
    rep["time_off"] = _check_time_off(check, where, rep["time_off"])
    return rep


def _check_time_off(check: _Checker, where: str, periods) -> list[dict]:
    if not isinstance(periods, list):
        check.error(f"{where}: time_off", 'must be a list of {"start": …, "end": …}')
        return []
    out = []
    for j, period in enumerate(periods):
        at = f"{where}: time_off[{j}]"
        if not isinstance(period, dict) or set(period) != {"start", "end"}:
            check.error(at, 'must be {"start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"}')
            continue
        moments = {}
        for key in ("start", "end"):
            try:
                moment = dt.datetime.fromisoformat(str(period[key]))
                if moment.tzinfo is None:
                    raise ValueError
                moments[key] = moment
            except ValueError:
                check.error(
                    f"{at}.{key}", f"{_q(period[key])} is not a date-time with a zone, like 2026-12-24T00:00:00Z"
                )
        if len(moments) == 2:
            if moments["end"] <= moments["start"]:
                check.error(f"{at}.end", "time off must end after it starts")
            out.append({"start": _iso(moments["start"]), "end": _iso(moments["end"])})
    return sorted(out, key=lambda p: (p["start"], p["end"]))


def _check_rule(check: _Checker, where: str, entry: dict, *, skills, teams, territories, reps) -> dict:
    rule = {"name": entry["name"], **DEFAULTS["rule"], "pool": {"team": None, "reps": [], "territory": None}}
    rule.update({k: entry[k] for k in DEFAULTS["rule"] if k in entry})
    priority = rule["priority"]
    if isinstance(priority, bool) or not isinstance(priority, int):
        check.error(f"{where}: priority", f"{_q(priority)} is not a whole number")
    rule["active"] = check.boolean(f"{where}: active", rule["active"])
    rule["requires_working_hours"] = check.boolean(f"{where}: requires_working_hours", rule["requires_working_hours"])
    rule["sla_minutes"] = check.whole(f"{where}: sla_minutes", rule["sla_minutes"], minimum=1, nullable=True)
    rule["claim_limit"] = check.whole(f"{where}: claim_limit", rule["claim_limit"], minimum=1, nullable=True)
    if rule["sla_action"] not in SlaAction.values:
        check.error(
            f"{where}: sla_action",
            f"{_q(rule['sla_action'])} is not allowed; use {' or '.join(SlaAction.values)}",
        )
    if rule["strategy"] not in Strategy.values:
        check.error(
            f"{where}: strategy", f"{_q(rule['strategy'])} is not a strategy; use one of {', '.join(Strategy.values)}"
        )
    if rule["when_none_eligible"] not in WhenNoneEligible.values:
        check.error(
            f"{where}: when_none_eligible",
            f"{_q(rule['when_none_eligible'])} is not allowed; use {' or '.join(WhenNoneEligible.values)}",
        )
    for key in ("required_skills", "preferred_skills"):
        rule[key] = sorted(check.text_list(f"{where}: {key}", rule[key]))
        for name in rule[key]:
            check.known(f"{where}: {key}", name, skills, "skill")
    rule["conditions"] = _check_conditions(check, where, rule["conditions"], territories)
    rule["pool"] = _check_pool(check, where, entry.get("pool", {}), teams=teams, territories=territories, reps=reps)
    return rule


def _check_conditions(check: _Checker, where: str, conditions, territories) -> list[dict]:
    if not isinstance(conditions, list):
        check.error(f"{where}: conditions", 'must be a list of {"field", "op", "value"}')
        return []
    out = []
    for j, cond in enumerate(conditions):
        at = f"{where}: conditions[{j}]"
        if not isinstance(cond, dict) or not {"field", "op"} <= set(cond) or set(cond) - {"field", "op", "value"}:
            check.error(at, 'must be {"field": …, "op": …, "value": …}')
            continue
        field_name, op, value = cond["field"], cond["op"], cond.get("value")
        if op not in Operator.values:  # the first thing to name; the value cannot be judged without it
            check.error(f"{at}.op", f"{_q(op)} is not an operator; use one of {', '.join(Operator.values)}")
            continue
        try:
            validate_condition(str(field_name), op, value)
        except ValidationError as err:
            for key, messages in err.message_dict.items():
                check.error(f"{at}.{key}", " ".join(messages).replace("“", '"').replace("”", '"'))
            continue
        if op == Operator.IN_TERRITORY:
            check.known(f"{at}.value", value, territories, "territory")
        out.append({"field": field_name, "op": op, "value": value})
    return out


def _check_pool(check: _Checker, where: str, pool, *, teams, territories, reps) -> dict:
    if not isinstance(pool, dict) or set(pool) - {"team", "reps", "territory"}:
        check.error(
            f"{where}: pool", 'must be {"team": name or null, "reps": [emails], "territory": name, "matched" or null}'
        )
        return {"team": None, "reps": [], "territory": None}
    out = {"team": pool.get("team"), "reps": [], "territory": pool.get("territory")}
    if out["team"] is not None:
        check.known(f"{where}: pool.team", out["team"], teams, "team")
    emails = check.text_list(f"{where}: pool.reps", pool.get("reps", []))
    for email in emails:
        check.known(f"{where}: pool.reps", email, reps, "rep")
    if len(set(emails)) != len(emails):
        check.error(f"{where}: pool.reps", "lists a rep twice")
    out["reps"] = emails
    if out["territory"] not in (None, MATCHED):
        check.known(f"{where}: pool.territory", out["territory"], territories, "territory")
    return out


# --- load -------------------------------------------------------------------------------


def routing_config_load(
    data,
    *,
    who: str = "load_routing",
    user=None,
    deactivate_absent_rules: bool = True,
    remove_unused_absent_rules: bool = False,
    first_changes=(),
) -> LoadSummary:
    """Validate the whole document, then upsert it by natural key in one transaction.

    Raises RoutingFileError (naming each entry and field) and changes nothing when any part is bad.
    Entries equal to what is stored are not written, so loading the same file twice is a no-op.
    `deactivate_absent_rules=False` leaves rules the document does not name alone (demo data
    added on top of a set-up). A load that changed something is recorded as one routing
    version made by `who` (the command, or the user), led by `first_changes`.
    """
    wanted = _check(data)
    summary = LoadSummary()
    with transaction.atomic():
        routing_version_baseline()
        current = routing_config_dump()
        stored = {
            "skills": {name: name for name in current["skills"]},
            "teams": {t["name"]: t for t in current["teams"]},
            "territories": {t["name"]: t for t in current["territories"]},
            "reps": {r["email"]: r for r in current["reps"]},
            "rules": {r["name"]: r for r in current["rules"]},
        }
        changes = {}
        for section in SECTIONS:
            changes[section] = {k: v for k, v in wanted[section].items() if stored[section].get(k) != v}
            for key in changes[section]:
                bucket = summary.updated if key in stored[section] else summary.created
                bucket[section] += 1
        SkillTag.objects.bulk_create([SkillTag(name=name) for name in changes["skills"]])
        _upsert_teams(changes["teams"])
        _upsert_territories(changes["territories"])
        _upsert_reps(changes["reps"])
        _upsert_rules(changes["rules"])
        to_deactivate = sorted(set(stored["rules"]) - set(wanted["rules"])) if deactivate_absent_rules else []
        if remove_unused_absent_rules and to_deactivate:
            unused = Rule.objects.filter(name__in=to_deactivate, assignments=None, pooled_leads=None)
            removed = set(unused.values_list("name", flat=True))
            unused.delete()
            to_deactivate = [n for n in to_deactivate if n not in removed]
        summary.deactivated_rules = [n for n in to_deactivate if stored["rules"][n]["active"]]
        Rule.objects.filter(name__in=summary.deactivated_rules).update(active=False)
        version = routing_version_capture(who=who, user=user, first_changes=first_changes, before=current)
        if version is not None:
            summary.rule_set_version, summary.changes = version.number, version.changes
    return summary


def _upsert_teams(changed: dict[str, dict]) -> None:
    if not changed:
        return
    stored = {t.name: t for t in Team.objects.filter(name__in=list(changed))}
    for name, team in stored.items():
        team.away_hand_back_after_minutes = changed[name]["away_hand_back_after_minutes"]
    Team.objects.bulk_update(list(stored.values()), ["away_hand_back_after_minutes"])
    Team.objects.bulk_create(
        [
            Team(name=n, away_hand_back_after_minutes=s["away_hand_back_after_minutes"])
            for n, s in changed.items()
            if n not in stored
        ]
    )


def _upsert_territories(changed: dict[str, dict]) -> None:
    if not changed:
        return
    existing = {t.name: t for t in Territory.objects.filter(name__in=changed)}
    Territory.objects.bulk_create([Territory(name=name) for name in changed if name not in existing])
    by_name = {t.name: t for t in Territory.objects.all()}
    for name, spec in changed.items():
        territory = by_name[name]
        territory.parent = by_name[spec["parent"]] if spec["parent"] else None
        territory.countries, territory.regions = spec["countries"], spec["regions"]
        territory.postal_prefixes = spec["postal_prefixes"]
    Territory.objects.bulk_update([by_name[n] for n in changed], ["parent", "countries", "regions", "postal_prefixes"])


def _upsert_reps(changed: dict[str, dict]) -> None:
    if not changed:
        return
    teams = dict(Team.objects.values_list("name", "pk"))
    skills = dict(SkillTag.objects.values_list("name", "pk"))
    territories = dict(Territory.objects.values_list("name", "pk"))
    existing = {r.email: r for r in Rep.objects.filter(email__in=list(changed))}
    Rep.objects.bulk_create(
        [Rep(email=email, name=spec["name"]) for email, spec in changed.items() if email not in existing]
    )
    reps = {r.email: r for r in Rep.objects.filter(email__in=list(changed))}
    # The one service for a rep's routing fields: a rep the file deactivates hands back their leads
    # not yet contacted, exactly as from the admin's default.
    reps_routing_update(
        changes={
            reps[email].pk: {
                "name": spec["name"],
                "team_id": teams.get(spec["team"]),
                "capacity": spec["capacity"],
                "daily_cap": spec["daily_cap"],
                "weight": Decimal(str(spec["weight"])),
                "timezone": spec["timezone"],
                "working_hours": spec["working_hours"] or {},
                "active": spec["active"],
                "notify_email": spec["notify_email"],
            }
            for email, spec in changed.items()
        },
        hand_back=UNCONTACTED,
    )
    rep_ids = [r.pk for r in reps.values()]
    # Skills, territories and time off of a changed rep are replaced by what the file lists.
    RepSkill.objects.filter(rep_id__in=rep_ids).delete()
    TimeOff.objects.filter(rep_id__in=rep_ids).delete()
    Rep.territories.through.objects.filter(rep_id__in=rep_ids).delete()
    RepSkill.objects.bulk_create(
        [
            RepSkill(rep=reps[e], skill_id=skills[name], proficiency=level)
            for e, s in changed.items()
            for name, level in s["skills"].items()
        ]
    )
    TimeOff.objects.bulk_create(
        [
            TimeOff(rep=reps[e], start=dt.datetime.fromisoformat(p["start"]), end=dt.datetime.fromisoformat(p["end"]))
            for e, s in changed.items()
            for p in s["time_off"]
        ]
    )
    Rep.territories.through.objects.bulk_create(
        [
            Rep.territories.through(rep_id=reps[e].pk, territory_id=territories[name])
            for e, s in changed.items()
            for name in s["territories"]
        ]
    )


def _upsert_rules(changed: dict[str, dict]) -> None:
    if not changed:
        return
    teams = dict(Team.objects.values_list("name", "pk"))
    skills = dict(SkillTag.objects.values_list("name", "pk"))
    territories = dict(Territory.objects.values_list("name", "pk"))
    reps = dict(Rep.objects.values_list("email", "pk"))
    existing = set(Rule.objects.filter(name__in=list(changed)).values_list("name", flat=True))
    Rule.objects.bulk_create([Rule(name=name) for name in changed if name not in existing])
    rules = {r.name: r for r in Rule.objects.filter(name__in=list(changed))}
    for name, spec in changed.items():
        rule, pool = rules[name], spec["pool"]
        for key in (
            "priority",
            "active",
            "strategy",
            "when_none_eligible",
            "requires_working_hours",
            "sla_minutes",
            "sla_action",
            "claim_limit",
        ):
            setattr(rule, key, spec[key])
        rule.pool_team_id = teams.get(pool["team"])
        rule.pool_matched_territory = pool["territory"] == MATCHED
        rule.pool_territory_id = territories.get(pool["territory"]) if pool["territory"] != MATCHED else None
    Rule.objects.bulk_update(
        list(rules.values()),
        [
            "priority",
            "active",
            "strategy",
            "when_none_eligible",
            "requires_working_hours",
            "sla_minutes",
            "sla_action",
            "claim_limit",
            "pool_team",
            "pool_matched_territory",
            "pool_territory",
        ],
    )
    rule_ids = [r.pk for r in rules.values()]
    # Conditions, listed reps and skills of a changed rule are replaced by what the file lists.
    RuleCondition.objects.filter(rule_id__in=rule_ids).delete()
    RulePoolRep.objects.filter(rule_id__in=rule_ids).delete()
    Rule.required_skills.through.objects.filter(rule_id__in=rule_ids).delete()
    Rule.preferred_skills.through.objects.filter(rule_id__in=rule_ids).delete()
    RuleCondition.objects.bulk_create(
        [
            RuleCondition(rule=rules[n], field=c["field"], op=c["op"], value=c["value"], position=i)
            for n, s in changed.items()
            for i, c in enumerate(s["conditions"])
        ]
    )
    RulePoolRep.objects.bulk_create(
        [
            RulePoolRep(rule=rules[n], rep_id=reps[email], position=i)
            for n, s in changed.items()
            for i, email in enumerate(s["pool"]["reps"])
        ]
    )
    for key in ("required_skills", "preferred_skills"):
        through = getattr(Rule, key).through
        through.objects.bulk_create(
            [through(rule_id=rules[n].pk, skilltag_id=skills[name]) for n, s in changed.items() for name in s[key]]
        )


# --- restore ----------------------------------------------------------------------------


def routing_version_restore(*, number: int, who: str = "restore_routing", user=None) -> LoadSummary:
    """Make version `number`'s set-up current, checked and loaded like a file: all or nothing.

    The result is a new version whose changes begin `restored from vN`. Rules the version does
    not name are removed when no lead was ever decided by them or waits in their pool, and
    otherwise deactivated (kept for the audit trail and the reports). A restore does not bring
    back a rep deleted since: reps hold leads and accounts, so that is an ops decision.
    Raises RoutingFileError (nothing changed) when the version is unknown or no longer validates.
    """
    from routing.models import RoutingVersion, RuleSet
    from routing.versions import version_document

    document = version_document(number)
    if document is None:
        raise RoutingFileError([f"v{number}: there is no such routing version"])
    gone = sorted({r["email"] for r in document["reps"]} - set(Rep.objects.values_list("email", flat=True)))
    if gone:
        raise RoutingFileError(
            [f"v{number}: rep {email} was deleted since; a restore does not bring reps back" for email in gone]
        )
    try:
        routing_config_check(document)
    except RoutingFileError as err:
        raise RoutingFileError([f"v{number} no longer validates: {m}" for m in err.messages]) from err
    settings = RoutingVersion.objects.values_list("settings", flat=True).get(number=number)
    with transaction.atomic():
        if settings:
            RuleSet.current()
            RuleSet.objects.filter(pk=1).update(**settings)
        return routing_config_load(
            document, who=who, user=user, remove_unused_absent_rules=True, first_changes=[f"restored from v{number}"]
        )
