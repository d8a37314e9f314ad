"""The lean lead post (leadops/api/lean.py) answers exactly what the full stack answers.

Each request goes through the real WSGI entry point (`leadops.wsgi.application`, where the lean path sits)
and, for another integration with the same settings, through the API's full stack alone (`leadops.wsgi.api`:
Django's handler, the API middleware, DRF). Status, headers and body must match, ids and times aside; and
the test says which requests the lean path answered itself (only new leads) and which it handed on.
"""

import json

import pytest
from django.db import connection
from werkzeug.test import Client

from leadops import wsgi
from leadops.models import Lead
from leadops.tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db(transaction=True)

LEAD = {"external_id": "W-1", "email": "Ana@Acme.example", "first_name": "Ana", "country": "de", "score": 70}
# Ids and times differ; so does the source, which defaults to the integration's name.
VARIABLE = {"id", "created_at", "assigned_at", "source"}


@pytest.fixture
def handed_on(monkeypatch):
    """The requests the lean path handed to the full stack (the entry point's `api`)."""
    seen: list[str] = []
    full_stack = wsgi.api

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return full_stack(environ, start_response)

    counting.full_stack = full_stack
    monkeypatch.setattr(wsgi, "api", counting)
    return seen


class Pair:
    """The same requests sent by two integrations alike: one through the entry point, one to the full stack."""

    def __init__(self, **integration):
        self.lean_integration = IntegrationFactory(name="Lean", **integration)
        self.full_integration = IntegrationFactory(name="Full", **integration)
        self.lean = Client(wsgi.application)
        self.full = Client(getattr(wsgi.api, "full_stack", wsgi.api))

    def post(self, body, *, raw=None, headers=None, path="/api/leads/", content_type="application/json"):
        """Both answers as (status, headers, body), after checking they are the same."""
        answers = []
        for client, integration in ((self.lean, self.lean_integration), (self.full, self.full_integration)):
            sent = {"Authorization": f"Token {integration.raw_key}", **(headers or {})}
            data = raw if raw is not None else json.dumps(body)
            response = client.post(path, data=data, headers=sent, content_type=content_type)
            answers.append(_comparable(response))
        assert answers[0] == answers[1]
        return answers[0]


def _comparable(response):
    raw = response.get_data()
    headers = dict(response.headers)
    if "Content-Length" in headers:
        assert int(headers.pop("Content-Length")) == len(raw)  # ids differ in length between the two
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    return response.status_code, headers, _without_variable(body)


def _without_variable(body):
    if isinstance(body, dict):
        return {name: "…" if name in VARIABLE else _without_variable(value) for name, value in body.items()}
    return body


def test_a_new_lead_is_answered_by_the_lean_path_as_the_full_stack_answers_it(handed_on):
    pair = Pair()
    status, headers, body = pair.post(LEAD)
    assert status == 201
    assert handed_on == [], "the lean path answered the new lead itself"
    assert body["email"] == "ana@acme.example" and body["country"] == "DE" and body["status"] == "pending"
    assert body["owner"] is None and body["assignment"] is None
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Allow"] == "GET, POST, HEAD, OPTIONS"
    stored = Lead.objects.get(integration=pair.lean_integration)
    assert (stored.external_id, stored.email, stored.source) == ("W-1", "ana@acme.example", "Lean")


@pytest.mark.parametrize(
    "case, body, raw, headers, content_type, expected",
    [
        ("bad email", {**LEAD, "email": "not an email"}, None, None, "application/json", 400),
        ("unknown field", {**LEAD, "colour": "red"}, None, None, "application/json", 400),
        ("no email nor phone", {"external_id": "W-2"}, None, None, "application/json", 400),
        ("someone else's source", {**LEAD, "source": "partner"}, None, None, "application/json", 403),
        ("a list", None, json.dumps([LEAD]), None, "application/json", 400),
        ("not JSON", None, '{"email": ', None, "application/json", 400),
        ("NaN", None, '{"email": "a@b.example", "score": NaN}', None, "application/json", 400),
        ("not UTF-8", None, b'{"email": "\xff@b.example"}', None, "application/json", 400),
        ("unknown key", LEAD, None, {"Authorization": "Token nope"}, "application/json", 401),
        ("key in three parts", LEAD, None, {"Authorization": "Token a b"}, "application/json", 401),
        ("not a JSON body", LEAD, None, None, "text/plain", 415),
        ("wait", LEAD, None, None, "application/json", 201),
        ("a host not allowed", LEAD, None, {"Host": "evil.example"}, "application/json", 400),
    ],
)
def test_what_the_lean_path_does_not_answer_goes_to_the_full_stack(
    handed_on, case, body, raw, headers, content_type, expected
):
    pair = Pair()
    path = "/api/leads/?wait=0" if case == "wait" else "/api/leads/"
    status, _, answer = pair.post(body, raw=raw, headers=headers, content_type=content_type, path=path)
    assert status == expected, answer
    assert handed_on == ["/api/leads/"], "handed on, not answered by the lean path"
    if status == 400 and isinstance(answer, dict) and case == "bad email":
        assert "email" in answer


def test_the_key_keyword_is_read_as_drf_reads_it(handed_on):
    pair = Pair()
    for client, integration in ((pair.lean, pair.lean_integration), (pair.full, pair.full_integration)):
        sent = {"Authorization": f"tOkEn  {integration.raw_key}"}
        assert client.post("/api/leads/", json=LEAD, headers=sent).status_code == 201
    assert handed_on == []


def test_a_body_shorter_than_its_content_length_is_handed_on(handed_on):
    """A client that went away mid-body (or lied about the length): the full stack answers what it read."""
    pair = Pair()
    answers = []
    for client, integration in ((pair.lean, pair.lean_integration), (pair.full, pair.full_integration)):
        body = json.dumps({**LEAD, "external_id": "W-short"})
        response = client.post(
            "/api/leads/",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Token {integration.raw_key}"},
            environ_overrides={"CONTENT_LENGTH": str(len(body) + 100)},
        )
        answers.append(_comparable(response))
    assert answers[0] == answers[1]
    assert handed_on == ["/api/leads/"]


def test_a_repeat_and_a_clash_are_handed_on_and_answered_as_always(handed_on):
    pair = Pair()
    assert pair.post(LEAD)[0] == 201
    status, _, body = pair.post(LEAD)
    assert status == 200 and body["external_id"] == "W-1"
    assert handed_on == ["/api/leads/"]
    assert Lead.objects.filter(integration=pair.lean_integration).count() == 1


def test_a_request_handed_on_after_the_rate_limit_counted_it_is_counted_once(handed_on, one_rate_window):
    """Limit 2 a minute: a new lead (1), its repeat (2, handed on: the full stack must not count it again, or it
    would answer 429 instead of 200), then a third post over the limit: 429 with Retry-After, from both paths."""
    pair = Pair(rate_limit_per_minute=2)
    assert pair.post(LEAD)[0] == 201
    assert pair.post(LEAD)[0] == 200
    status, headers, body = pair.post({**LEAD, "external_id": "W-3"})
    assert status == 429 and int(headers["Retry-After"]) > 0 and "detail" in body
    assert handed_on == ["/api/leads/", "/api/leads/"]


def test_an_unexpected_failure_is_the_same_json_500(handed_on, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("leadops.api.lean.leads_store", broken)
    monkeypatch.setattr("leadops.services.leads.leads_store", broken)
    status, headers, body = Pair().post(LEAD)
    assert status == 500 and headers["Content-Type"] == "application/json"
    assert set(body) == {"detail"} and "boom" not in body["detail"]
    assert handed_on == []
    assert sum("boom" in str(record.exc_info[1]) for record in caplog.records if record.exc_info) == 2


@pytest.mark.postgres
def test_the_lean_path_counts_as_a_request_for_the_connection(handed_on, settings):
    """Django's connection upkeep runs around a lean post as around any request: with CONN_MAX_AGE 0 the
    connection is closed when the request finishes."""
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    connection.settings_dict["CONN_MAX_AGE"] = 0
    pair = Pair()
    connection.close()
    response = pair.lean.post(
        "/api/leads/", json=LEAD, headers={"Authorization": f"Token {pair.lean_integration.raw_key}"}
    )
    assert response.status_code == 201 and handed_on == []
    response.close()  # the server closes the answer once sent: Django's request_finished
    assert connection.connection is None, "closed when the request finished (CONN_MAX_AGE 0)"
