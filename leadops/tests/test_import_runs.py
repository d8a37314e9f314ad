"""Background file imports from the admin (ImportRun): upload, a job streams the file, the run reports."""

import io

import django_rq
import pytest
from django.urls import reverse

from leadops.models import ImportRun, Lead
from leadops.services.imports import import_run_execute
from leadops.tests.test_import import MESSY_CSV
from leadops.tests.test_intake_end_to_end import run_worker_burst

pytestmark = pytest.mark.django_db


def upload(admin_client, text, name="leads.csv", source="trade-show"):
    handle = io.BytesIO(text.encode())
    handle.name = name
    return admin_client.post(reverse("admin:leadops_importrun_add"), {"file": handle, "source": source}, follow=True)


def imported(run_id):
    """The run after its job: inline queues ran it on commit; with Redis the job waits for a
    worker, so run the job's service here (the real worker has its own test below)."""
    import_run_execute(run_id)
    return ImportRun.objects.get(pk=run_id)


def test_an_uploaded_file_is_imported_by_a_job_and_the_run_lists_the_bad_rows(
    admin_client, django_capture_on_commit_callbacks
):
    form = admin_client.get(reverse("admin:leadops_importrun_add")).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="file"' in form
    assert 'name="source" value="import"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, MESSY_CSV)
    assert response.status_code == 200
    run = imported(ImportRun.objects.get().pk)
    assert run.status == "done" and run.file_name == "leads.csv"
    assert (run.rows, run.created, run.duplicates, run.errors) == (6, 2, 1, 3)
    assert "line 3: email:" in run.error_lines and "“not-an-email”" in run.error_lines
    assert "line 4: country:" in run.error_lines and "Narnia" in run.error_lines
    assert run.content == b"" and run.finished_at is not None  # the upload is not kept once imported
    assert set(Lead.objects.values_list("external_id", "source")) == {("R-1", "trade-show"), ("R-5", "trade-show")}
    page = admin_client.get(reverse("admin:leadops_importrun_change", args=[run.pk])).content.decode()
    assert "not-an-email" in page and "Done" in page


def test_uploading_the_same_file_again_creates_nothing(admin_client, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            upload(admin_client, MESSY_CSV)
    first, second = (imported(run.pk) for run in ImportRun.objects.order_by("id"))
    assert first.created == 2 and (second.created, second.duplicates) == (0, 3)
    assert Lead.objects.count() == 2


def test_a_file_of_another_kind_is_refused_on_the_form_and_nothing_is_stored(admin_client):
    response = upload(admin_client, "%PDF-1.4", name="leads.pdf")
    assert "Import reads .csv or .xlsx files, not “.pdf”." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_file_without_an_email_or_phone_column_fails_with_the_reason_on_the_run(
    admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, "Name,Company\nAna,Acme\n")
    run = imported(ImportRun.objects.get().pk)
    assert run.status == "failed" and "at least an email or a phone column" in run.failure
    assert Lead.objects.count() == 0


def test_a_job_run_twice_imports_once(admin_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, MESSY_CSV)
    run_id = ImportRun.objects.get().pk
    imported(run_id)
    import_run_execute(run_id)
    assert ImportRun.objects.get(pk=run_id).created == 2 and Lead.objects.count() == 2


def test_the_interactive_import_page_points_big_files_to_the_background_import(admin_client):
    page = admin_client.get(reverse("admin:leadops_lead_import"), follow=True).content.decode()
    assert f'<a href="{reverse("admin:leadops_importrun_add")}">a background file import</a>' in page


def test_uploading_needs_the_add_lead_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:leadops_importrun_add")).status_code == 403


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_file(admin_client):
    django_rq.get_queue("default").empty()
    rows = "External ID,Email\n" + "".join(f"W-{n},lead{n}@example.com\n" for n in range(2500)) + "W-x,broken\n"
    upload(admin_client, rows)
    run = ImportRun.objects.get()
    assert run.status == "queued"
    worker = run_worker_burst("default")
    assert worker.returncode == 0, worker.stderr[-2000:]
    run.refresh_from_db()
    assert (run.status, run.rows, run.created, run.errors) == ("done", 2501, 2500, 1)
    assert "line 2502: email:" in run.error_lines
    assert Lead.objects.filter(source="trade-show", status="pending").count() == 2500
    assert Lead.objects.filter(import_run=run).count() == 2500  # written by COPY, each lead knows its import


def test_the_stored_file_is_copied_out_chunk_by_chunk_byte_for_byte(tmp_path):
    from leadops.services.imports import _copy_content

    content = "External ID,Email\nÄ-1,ä@example.com\n".encode() * 5
    run = ImportRun.objects.create(file_name="leads.csv", content=content)
    with open(tmp_path / "out.csv", "wb") as handle:
        _copy_content(run.pk, handle, chunk_size=7)  # chunks split the 2-byte characters too
    assert (tmp_path / "out.csv").read_bytes() == content


def test_when_redis_refuses_the_job_the_run_says_so_instead_of_waiting_forever(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    import redis
    from rq import Queue

    dead = Queue("default", connection=redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1))
    monkeypatch.setattr(django_rq, "get_queue", lambda name="default", **kwargs: dead)
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin_client, MESSY_CSV)
    run = ImportRun.objects.get()
    assert (
        run.status == "failed" and "Could not queue the import (ConnectionError); upload the file again." == run.failure
    )
    assert Lead.objects.count() == 0
