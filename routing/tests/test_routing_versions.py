"""Routing versions: every change to the set-up makes one version (who, when, what in words, the
document); history, dump of a version and restore from the command line."""

import copy
import html
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from reps.models import Rep, Team
from routing.models import RoutingVersion, RuleSet
from routing.routing_file import routing_config_dump, routing_config_load
from routing.tests.test_admin import condition_data, rule_form_data
from routing.tests.test_routing_file import PRODUCT_EXAMPLE
from routing.versions import FULL_EVERY, version_document

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def load(tmp_path, data, name="routing.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return run("load_routing", str(path))


def file_b() -> dict:
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["rules"][0]["priority"] = 5
    data["reps"][0]["capacity"] = 30
    data["rules"].append({"name": "Spain SMB", "conditions": [{"field": "country", "op": "equals", "value": "ES"}]})
    return data


def test_a_load_makes_one_version_with_its_changes_in_ops_words(tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    load(tmp_path, file_b())
    latest = RoutingVersion.objects.first()
    assert latest.number == RuleSet.current().version and latest.who == "load_routing"
    assert 'rule "DACH airlines": priority 10 → 5' in latest.changes
    assert "rep ana@example.com: capacity 40 → 30" in latest.changes
    assert 'rule "Spain SMB" added' in latest.changes
    assert RoutingVersion.objects.count() == 2


def test_loading_the_same_file_again_makes_no_version(tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    number = RuleSet.current().version
    assert "Nothing to change" in load(tmp_path, PRODUCT_EXAMPLE)
    assert RoutingVersion.objects.count() == 1 and RuleSet.current().version == number


def test_load_a_then_b_then_restore_a_gives_a_back_as_a_third_version(tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    a_dump, a_number = run("dump_routing"), RuleSet.current().version
    b = copy.deepcopy(PRODUCT_EXAMPLE)
    b["rules"][0]["priority"] = 5
    b["rules"][0]["conditions"][1]["value"] = "banking"
    b["reps"][0]["capacity"] = 30
    load(tmp_path, b)
    output = run("restore_routing", str(a_number))
    assert run("dump_routing") == a_dump
    versions = list(RoutingVersion.objects.order_by("number"))
    assert len(versions) == 3
    assert versions[-1].changes[0] == f"restored from v{a_number}" and versions[-1].who == "restore_routing"
    assert 'rule "DACH airlines": priority 5 → 10' in versions[-1].changes
    assert f"Restored v{a_number} as v{versions[-1].number}" in output
    assert run("dump_routing", "--version", str(a_number)) == a_dump


def test_restore_of_a_version_naming_a_rep_deleted_since_changes_nothing_and_says_why(tmp_path, admin_client):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["reps"].append({"email": "bob@example.com", "name": "Bob"})
    data["rules"][0]["pool"]["reps"] = ["bob@example.com"]
    load(tmp_path, data)
    number = RuleSet.current().version
    load(tmp_path, PRODUCT_EXAMPLE)
    bob = Rep.objects.get(email="bob@example.com")
    response = admin_client.post(reverse("admin:reps_rep_delete", args=[bob.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Rep.objects.filter(email="bob@example.com").exists()
    assert "rep bob@example.com removed" in RoutingVersion.objects.first().changes
    before, versions = routing_config_dump(), RoutingVersion.objects.count()
    with pytest.raises(CommandError) as err:
        run("restore_routing", str(number))
    assert "rep bob@example.com was deleted since" in str(err.value) and "nothing changed" in str(err.value)
    assert routing_config_dump() == before and RoutingVersion.objects.count() == versions


def test_restore_of_an_unknown_version_says_so():
    with pytest.raises(CommandError, match="there is no such routing version"):
        run("restore_routing", "999")


def test_admin_save_of_a_rule_with_two_changed_conditions_makes_one_version_naming_both(admin_client, tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    from routing.models import Rule

    rule = Rule.objects.get(name="DACH airlines")
    before = RoutingVersion.objects.count()
    data = rule_form_data(rule, priority="10")
    conditions = list(rule.conditions.all())
    data.update(condition_data(0, "country", "in", list="DE, AT"))
    data.update(condition_data(1, "industry", "equals", text="banking"))
    data.update(
        {
            "conditions-TOTAL_FORMS": "2",
            "conditions-INITIAL_FORMS": "2",
            "conditions-0-id": conditions[0].pk,
            "conditions-0-rule": rule.pk,
            "conditions-1-id": conditions[1].pk,
            "conditions-1-rule": rule.pk,
            "required_skills": [s.pk for s in rule.required_skills.all()],
        }
    )
    response = admin_client.post(reverse("admin:routing_rule_change", args=[rule.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert RoutingVersion.objects.count() == before + 1
    version = RoutingVersion.objects.first()
    assert version.who == "admin" and version.user.username == "admin"
    assert 'rule "DACH airlines": condition 1: country is in territory "DACH" → country is one of DE, AT' in (
        version.changes
    )
    assert 'rule "DACH airlines": condition 2: industry equals "airline" → industry equals "banking"' in (
        version.changes
    )
    assert version.number == RuleSet.current().version
    # Saving the same page again changes nothing: no version, the number stays.
    response = admin_client.post(reverse("admin:routing_rule_change", args=[rule.pk]), data)
    assert response.status_code == 302 and RoutingVersion.objects.count() == before + 1


def test_a_rep_capacity_change_in_the_admin_is_a_version(admin_client, tmp_path):
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["reps"][0]["working_hours"] = None  # the page's day boxes are posted empty below
    load(tmp_path, data)
    ana = Rep.objects.get(email="ana@example.com")
    data = {
        "name": ana.name,
        "email": ana.email,
        "active": "on",
        "notify_email": "on",
        "timezone": ana.timezone,
        "capacity": "30",
        "daily_cap": str(ana.daily_cap),
        "weight": str(ana.weight),
        "working_hours": "{}",
        "team": ana.team_id,
        "territories": [t.pk for t in ana.territories.all()],
        "rep_skills-TOTAL_FORMS": "0",
        "rep_skills-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    data.update(
        {
            f"rep_skills-{i}-{k}": v
            for i, rs in enumerate(ana.rep_skills.all())
            for k, v in (("id", rs.pk), ("rep", ana.pk), ("skill", rs.skill_id), ("proficiency", rs.proficiency))
        }
    )
    data["rep_skills-TOTAL_FORMS"] = data["rep_skills-INITIAL_FORMS"] = str(ana.rep_skills.count())
    data.update(
        {
            f"time_off-{i}-{k}": v
            for i, t in enumerate(ana.time_off.all())
            for k, v in (
                ("id", t.pk),
                ("rep", ana.pk),
                ("start_0", f"{t.start:%Y-%m-%d}"),
                ("start_1", f"{t.start:%H:%M:%S}"),
                ("end_0", f"{t.end:%Y-%m-%d}"),
                ("end_1", f"{t.end:%H:%M:%S}"),
            )
        }
    )
    data["time_off-TOTAL_FORMS"] = data["time_off-INITIAL_FORMS"] = str(ana.time_off.count())
    response = admin_client.post(reverse("admin:reps_rep_change", args=[ana.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert RoutingVersion.objects.first().changes == ["rep ana@example.com: capacity 40 → 30"]


def test_routing_history_prints_newest_first_one_a_line(tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    load(tmp_path, file_b())
    lines = run("routing_history", "--limit", "5").splitlines()
    newest = RoutingVersion.objects.first()
    assert len(lines) == 2
    assert lines[0].startswith(f"v{newest.number}  {newest.created_at.isoformat()}  load_routing  ")
    assert 'rule "DACH airlines": priority 10 → 5' in lines[0]
    assert run("routing_history", "--limit", "1").count("\n") == 1


def test_dump_of_an_unknown_version_is_refused():
    with pytest.raises(CommandError, match="no routing version v42"):
        run("dump_routing", "--version", "42")


def test_versions_are_stored_as_changes_with_a_whole_document_every_so_often(tmp_path):
    routing_config_load(PRODUCT_EXAMPLE)
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    documents = {}
    for capacity in range(41, 41 + FULL_EVERY + 3):
        data["reps"][0]["capacity"] = capacity
        number = routing_config_load(data).rule_set_version
        documents[number] = routing_config_dump()
    assert RoutingVersion.objects.filter(full=True).count() == 2
    for number, document in documents.items():
        assert version_document(number) == document
    delta = RoutingVersion.objects.filter(full=False).first()
    assert len(delta.payload) < 300  # one rep's entry, not the document


def test_admin_lists_versions_shows_changes_and_diff_and_restores_behind_a_confirmation(admin_client, tmp_path):
    load(tmp_path, PRODUCT_EXAMPLE)
    a = RoutingVersion.objects.first()
    load(tmp_path, file_b())
    b = RoutingVersion.objects.first()
    listing = html.unescape(admin_client.get(reverse("admin:routing_routingversion_changelist")).content.decode())
    assert f"v{b.number}" in listing and "load_routing" in listing and "priority 10 → 5" in listing
    page = html.unescape(admin_client.get(reverse("admin:routing_routingversion_change", args=[b.pk])).content.decode())
    assert "rep ana@example.com: capacity 40 → 30" in page
    assert '-      "priority": 10,' in page and '+      "priority": 5,' in page
    restore_url = reverse("admin:routing_routingversion_restore", args=[a.pk])
    assert restore_url in admin_client.get(reverse("admin:routing_routingversion_change", args=[a.pk])).content.decode()
    confirm = html.unescape(admin_client.get(restore_url).content.decode())
    assert "Yes, restore" in confirm and 'rule "DACH airlines": priority 5 → 10' in confirm
    assert RoutingVersion.objects.count() == 2  # looking changes nothing
    response = admin_client.post(restore_url)
    restored = RoutingVersion.objects.first()
    assert response.status_code == 302 and restored.changes[0] == f"restored from v{a.number}"
    assert restored.who == "admin" and response.url.endswith(f"/{restored.pk}/change/")
    assert routing_config_dump() == version_document(a.number)


def test_restoring_needs_its_own_permission(client, django_user_model, tmp_path):
    from django.contrib.auth.models import Permission

    load(tmp_path, PRODUCT_EXAMPLE)
    version = RoutingVersion.objects.first()
    ops = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    ops.user_permissions.add(Permission.objects.get(codename="view_routingversion"))
    client.force_login(ops)
    url = reverse("admin:routing_routingversion_restore", args=[version.pk])
    assert client.get(reverse("admin:routing_routingversion_change", args=[version.pk])).status_code == 200
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    ops.user_permissions.add(Permission.objects.get(codename="restore_routingversion"))
    assert client.get(url).status_code == 200


def test_lead_page_links_each_decision_to_its_version(admin_client, tmp_path):
    from leadops.models import Lead
    from routing.services import leads_route

    load(tmp_path, PRODUCT_EXAMPLE)
    lead = Lead.objects.create(
        source="web", external_id="1", email="x@lufthansa.example", country="DE", industry="airline"
    )
    leads_route(lead_ids=[lead.id])
    version = RoutingVersion.objects.first()
    page = admin_client.get(reverse("admin:leadops_lead_change", args=[lead.pk])).content.decode()
    assert f'href="{reverse("admin:routing_routingversion_change", args=[version.pk])}">v{version.number}</a>' in page


def test_a_teams_hand_back_setting_is_a_version_in_words_from_the_file_and_the_admin(tmp_path, admin_client):
    load(tmp_path, PRODUCT_EXAMPLE)
    data = copy.deepcopy(PRODUCT_EXAMPLE)
    data["teams"][0]["away_hand_back_after_minutes"] = 60
    load(tmp_path, data)
    assert RoutingVersion.objects.first().changes == [
        'team "EMEA Enterprise": hand back uncontacted leads of reps on time off never (their leads wait) '
        "→ after 60 min"
    ]
    team = Team.objects.get()
    response = admin_client.post(
        reverse("admin:reps_team_change", args=[team.pk]), {"name": team.name, "away_hand_back_after_minutes": "0"}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert RoutingVersion.objects.first().changes == [
        'team "EMEA Enterprise": hand back uncontacted leads of reps on time off after 60 min → at once'
    ]
    assert RoutingVersion.objects.count() == 3


def test_a_version_from_before_teams_had_the_hand_back_field_reads_as_leads_waiting():
    from routing.versions import document_changes

    before = {"teams": [{"name": "Inbound"}]}
    assert document_changes(before, {"teams": [{"name": "Inbound", "away_hand_back_after_minutes": None}]}) == []
    assert document_changes(before, {"teams": [{"name": "Inbound", "away_hand_back_after_minutes": 30}]}) == [
        'team "Inbound": hand back uncontacted leads of reps on time off never (their leads wait) → after 30 min'
    ]


def test_a_save_compares_with_the_committed_version_kept_in_memory_never_with_a_rolled_back_one(
    monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from routing import versions
    from routing.services.rule_set import routing_change

    monkeypatch.setattr(versions, "_REMEMBERED", {})
    with django_capture_on_commit_callbacks(execute=True):
        routing_config_load(PRODUCT_EXAMPLE)
    rep = Rep.objects.get(email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        with routing_change(who="ops"):
            Rep.objects.filter(pk=rep.pk).update(capacity=31)
    kept = dict(versions._REMEMBERED)
    last = RoutingVersion.objects.first()
    assert (last.number, last.created_at) in kept
    # A version whose transaction rolls back is not kept.
    with pytest.raises(RuntimeError), transaction.atomic():
        with routing_change(who="ops"):
            Rep.objects.filter(pk=rep.pk).update(capacity=99)
        raise RuntimeError
    assert versions._REMEMBERED == kept
    # The next save compares with the kept document: no change set is unpacked.
    monkeypatch.setattr(versions, "version_document", lambda number: pytest.fail("read from the database"))
    with routing_change(who="ops"):
        Rep.objects.filter(pk=rep.pk).update(capacity=32)
    assert RoutingVersion.objects.first().changes == ["rep ana@example.com: capacity 31 → 32"]
