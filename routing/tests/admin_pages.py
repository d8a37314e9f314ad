"""Shared by the admin page tests: open an admin page and count the queries it runs."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from routing.tests.factories import routing_setup_create


def page_url(kind: str, model) -> str:
    """The admin URL of `kind` (changelist / add / change of the first row) for `model`."""
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{kind}"
    if kind == "change":
        return reverse(name, args=[model.objects.order_by("pk").first().pk])
    return reverse(name)


def page_queries(client, url: str) -> int:
    client.get(url)  # the first request of a session also touches the session row
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def queries_at_5_and_50_rows(client, kind: str, model) -> tuple[int, int]:
    """Queries of one admin page with 5 rows of everything, then with 50 (no query per row → equal)."""
    routing_setup_create(5)
    at_5 = page_queries(client, page_url(kind, model))
    routing_setup_create(45)
    return at_5, page_queries(client, page_url(kind, model))
