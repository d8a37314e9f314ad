"""Navigation and identity: the admin index is grouped by ops tasks; the queue page says when jobs run inline."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

pytestmark = pytest.mark.django_db


def test_the_admin_index_is_grouped_by_task_and_engine_state_is_for_superusers(client, admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert "<title>Routing operations | LeadOps</title>" in page
    for group in ("Routing set-up", "Leads", "People", "Monitoring"):
        assert f">{group}</a>" in page
    assert "Rotation cursors" in page and "Rep daily counts" in page
    staff = get_user_model().objects.create_user("lisa", password="x", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["routing", "reps", "leadops"]))
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert "Rules" in page and "Rotation cursors" not in page and "Rep daily counts" not in page
    assert client.get("/admin/routing/rotationcursor/").status_code == 403


def test_the_queue_page_says_when_jobs_run_inline(admin_client):
    page = admin_client.get("/django-rq/").content.decode()
    assert ("jobs run inline" in page) == (not settings.REDIS_URL)
