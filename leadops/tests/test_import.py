"""Importing leads from files: the admin's Import page (preview, confirm), its background import and
`manage.py import_leads`: one service, one way of numbering lines."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from leadops.models import ImportRun, Lead
from leadops.resources import LeadExportResource
from leadops.services.imports import import_preview, import_run_execute
from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory

pytestmark = pytest.mark.django_db

MESSY_CSV = (
    "External ID,E-mail,First Name,Last Name,Country,Employees,Score,Zip,extra.campaign,Notes\n"
    "R-1, Ana@Example.com ,Ana,Ruiz,de,250,80,80331,spring,call back\n"
    "R-2,not-an-email,Bo,Lind,SE,10,50,11122,,\n"
    "R-3,cy@example.com,Cy,Park,Narnia,12,40,,,\n"
    "R-4,dee@example.com,Dee,Ng,GB,-5,101,,,\n"
    "R-1,ana.again@example.com,Ana,Ruiz,DE,250,80,80331,,\n"
    "R-5,eve@example.com,Eve,Ho,uk,,,,,\n"
)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run_import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_leads", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_leads_stores_good_rows_and_reports_bad_ones_by_line_field_and_value(tmp_path, routing_calls):
    out, err = run_import(write(tmp_path, "leads.csv", MESSY_CSV), "--source", "tradeshow")
    assert out.strip().endswith("6 rows: created 2, duplicates 1, errors 3")
    assert "line 3: email: “not-an-email” is not a valid email address." in err
    assert "line 4: country:" in err and "(value: “Narnia”)" in err
    assert "line 5: company_size: Must be 0 or more. (value: “-5”)" in err
    assert "line 5: score: Must be 100 or less. (value: “101”)" in err
    ana = Lead.objects.get(external_id="R-1")
    assert (ana.source, ana.email, ana.email_domain, ana.country, ana.company_size, ana.postal_code) == (
        "tradeshow",
        "ana@example.com",
        "example.com",
        "DE",
        250,
        "80331",
    )
    assert ana.extra == {"campaign": "spring"}
    assert Lead.objects.get(external_id="R-5").country == "GB"
    assert sorted(sum(routing_calls, [])) == sorted(Lead.objects.values_list("id", flat=True))


def test_importing_the_same_file_again_creates_nothing(tmp_path):
    path = write(tmp_path, "leads.csv", MESSY_CSV)
    run_import(path)
    out, _ = run_import(path)
    assert "created 0, duplicates 3, errors 3" in out
    assert Lead.objects.count() == 2


def test_a_dry_run_counts_everything_and_stores_nothing(tmp_path):
    out, _ = run_import(write(tmp_path, "leads.csv", MESSY_CSV), "--dry-run")
    assert "would have 6 rows: created 2, duplicates 1, errors 3" in out
    assert Lead.objects.count() == 0


def test_import_leads_reads_xlsx(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["email", "company", "postal_code", "company_size", "annual_revenue"])
    sheet.append(["x@example.com", "Acme", 80331, 12.0, 1500.5])
    sheet.append([None, None, None, None, None])
    sheet.append(["bad", "Acme", None, None, None])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    out, err = run_import(path)
    assert "2 rows: created 1, duplicates 0, errors 1" in out and "line 4: email:" in err
    lead = Lead.objects.get()
    assert (lead.postal_code, lead.company_size, str(lead.annual_revenue)) == ("80331", 12, "1500.50")


def test_a_file_without_an_email_or_phone_column_is_refused_with_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="email or a phone column"):
        run_import(write(tmp_path, "leads.csv", "name,company\nAna,Acme\n"))
    with pytest.raises(CommandError, match=".csv or .xlsx"):
        run_import(write(tmp_path, "leads.pdf", "x"))


# --------------------------------------------------------------- one numbering: preview, background, command

# A file with what moves line numbers: a BOM, a blank line, a value quoted over two lines, and bad rows
# before and after them.
NUMBERING_CSV = (
    "\ufeffExternal ID,Email,Company,Country,Score\n"
    "N-1,ana@example.com,Acme,DE,10\n"
    "N-2,broken-at-line-3,Acme,DE,10\n"
    "\n"
    'N-3,cy@example.com,"Two-line\nCompany",DE,10\n'
    "N-4,dee@example.com,Acme,Narnia,10\n"
    "N-5,eve@example.com,Acme,DE,300\n"
)


def preview_errors(name, content):
    run, summary = import_preview(file_name=name, content=content, source="fair")
    return run, summary, [str(error) for error in summary.error_samples]


def test_preview_background_import_and_command_number_the_same_lines_the_same_way(tmp_path):
    content = NUMBERING_CSV.encode()
    _, summary, shown = preview_errors("leads.csv", content)
    assert [line.split(":")[0] + ":" + line.split(":")[1] for line in shown] == [
        "line 3: email",
        "line 7: country",
        "line 8: score",
    ]
    assert "“broken-at-line-3”" in shown[0] and "“Narnia”" in shown[1] and "“300”" in shown[2]
    assert (summary.rows, summary.created, summary.errors) == (5, 2, 3)
    assert not Lead.objects.exists()  # a preview writes nothing

    run = ImportRun.objects.create(file_name="leads.csv", content=content, source="fair")
    import_run_execute(run.pk)
    run.refresh_from_db()
    assert run.error_lines.splitlines() == shown

    Lead.objects.all().delete()
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    _, err = run_import(path, "--source", "fair")
    assert err.splitlines() == shown


def xlsx_bytes(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    handle = io.BytesIO()
    book.save(handle)
    return handle.getvalue()


def test_xlsx_lines_are_the_spreadsheets_row_numbers_in_preview_and_import():
    content = xlsx_bytes(["email", "company"], ["x@example.com", "Acme"], [None, None], ["bad", "Acme"])
    _, summary, shown = preview_errors("leads.xlsx", content)
    assert [e.line for e in summary.error_samples] == [4] and summary.created == 1
    run = ImportRun.objects.create(file_name="leads.xlsx", content=content)
    import_run_execute(run.pk)
    run.refresh_from_db()
    assert run.error_lines.splitlines() == shown and run.created == 1


# --------------------------------------------------------------- the admin's Import page


def upload_for_preview(admin_client, content, name="leads.csv", source="fair"):
    handle = io.BytesIO(content if isinstance(content, bytes) else content.encode())
    handle.name = name
    return admin_client.post(reverse("admin:leadops_lead_import"), {"file": handle, "source": source})


def error_rows(html):
    """The preview's error table as (line, field, value, problem) rows, tags stripped."""
    body = html.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td><td>(.*?)</td></tr>", body)
    return [tuple(cell.replace("&quot;", '"').replace("&#x27;", "'") for cell in row) for row in rows]


def test_the_preview_lists_every_bad_line_counts_the_good_ones_and_confirm_imports_them_once(admin_client):
    response = upload_for_preview(admin_client, MESSY_CSV)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "2 leads will be created, 3 lines have errors, 1 line repeats a lead stored already or earlier in the file "
        "(skipped)." in html
    )
    rows = error_rows(html)
    assert [(line, field, value) for line, field, value, _ in rows] == [
        ("3", "email", "not-an-email"),
        ("4", "country", "Narnia"),
        ("5", "company_size", "-5"),
        ("5", "score", "101"),
    ]
    assert rows[2][3] == "Must be 0 or more." and rows[3][3] == "Must be 100 or less."
    assert "reupload" not in html and "yaml" not in html.lower() and 'accept=".csv,.xlsx"' in html
    assert not Lead.objects.exists()
    run = ImportRun.objects.get()
    assert run.status == "preview"

    confirm = reverse("admin:leadops_lead_import_confirm", args=[run.pk])
    done = admin_client.post(confirm, follow=True)
    assert done.redirect_chain[-1][0] == reverse("admin:leadops_importrun_change", args=[run.pk])
    page = done.content.decode()
    leads_url = reverse("admin:leadops_lead_changelist") + f"?import_run={run.pk}"
    assert "Imported “leads.csv”: 2 leads created, 3 lines with errors, 1 repeat skipped." in page
    assert f'href="{leads_url}" id="created-leads"' in page and "line 3: email:" in page
    assert set(Lead.objects.values_list("external_id", "source", "import_run")) == {
        ("R-1", "fair", run.pk),
        ("R-5", "fair", run.pk),
    }
    admin_client.post(confirm)  # confirming twice (a double click, the back button) imports once
    assert Lead.objects.count() == 2

    listed = admin_client.get(leads_url).content.decode()  # a plain link: it survives a reload
    assert listed.count('class="action-select"') == 2 and "leads.csv" in listed


def test_the_lead_list_filter_by_import_shows_only_that_imports_leads(admin_client):
    run = ImportRun.objects.create(file_name="a.csv", status="done", created=2)
    LeadFactory.create_batch(2, import_run=run)
    LeadFactory.create_batch(3)
    html = admin_client.get(reverse("admin:leadops_lead_changelist") + f"?import_run={run.pk}").content.decode()
    assert html.count('class="action-select"') == 2


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("leads.csv", b"", "The file is empty"),
        ("leads.csv", b"  \n", "The file is empty"),
        ("leads.csv", b"email,company\n", "has no leads under them"),
        ("leads.csv", "email,company\nzoë@example.com,Zürich AG\n".encode("latin-1"), "is not UTF-8 text"),
        ("leads.csv", b"Name,Company\nAna,Acme\n", "at least an email or a phone column; it has “Name”, “Company”"),
        ("leads.csv", b"ana@example.com,Ana\nbo@example.com,Bo\n", "at least an email or a phone column"),
        ("leads.json", b'[{"email": "a@example.com"}]', "Import reads .csv or .xlsx files, not “.json”."),
        ("leads.yaml", b"- email: a@example.com\n", "Import reads .csv or .xlsx files, not “.yaml”."),
        ("leads.xlsx", b"email,company\na@example.com,Acme\n", "Not a readable .xlsx file"),
        ("leads.csv", xlsx_bytes(["email"], ["a@example.com"]), "is not UTF-8 text"),
    ],
)
def test_a_file_the_import_cannot_read_gets_a_clear_message_not_a_500(admin_client, name, content, message):
    response = upload_for_preview(admin_client, content, name=name)
    assert response.status_code == 200
    html = response.content.decode()
    note = re.search(r'<p class="errornote" id="file-error">(.*?)</p>', html, re.S)
    assert note and message in note.group(1).replace("&quot;", '"'), html[:3000]
    assert 'id="import-errors"' not in html and not ImportRun.objects.exists() and not Lead.objects.exists()


def test_a_file_too_big_for_the_preview_points_to_the_background_import(admin_client, monkeypatch):
    monkeypatch.setattr("leadops.services.imports.PREVIEW_MAX_ROWS", 3)
    rows = "email\n" + "".join(f"l{n}@example.com\n" for n in range(4))
    html = upload_for_preview(admin_client, rows).content.decode()
    assert "more than 3 leads, too many to preview while you wait: use a background file import" in html
    assert not Lead.objects.exists()


def test_a_preview_of_only_bad_lines_offers_no_import(admin_client):
    html = upload_for_preview(admin_client, "email\nnope\n").content.decode()
    assert "No new lead to create, 1 line has errors." in html and 'id="confirm-import"' not in html


def test_another_users_or_a_missing_preview_cannot_be_confirmed(admin_client, django_user_model):
    other = django_user_model.objects.create_user("other", password="pw-12345-long")
    run = ImportRun.objects.create(
        file_name="x.csv", content=b"email\na@example.com\n", status="preview", uploaded_by=other
    )
    for run_id in (run.pk, run.pk + 1):
        response = admin_client.post(reverse("admin:leadops_lead_import_confirm", args=[run_id]), follow=True)
        assert "That preview is gone" in response.content.decode()
    assert not Lead.objects.exists()


def test_import_needs_the_add_lead_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    client.force_login(user)
    run = ImportRun.objects.create(
        file_name="x.csv", content=b"email\na@example.com\n", status="preview", uploaded_by=user
    )
    assert client.get(reverse("admin:leadops_lead_import")).status_code == 403
    assert client.post(reverse("admin:leadops_lead_import_confirm", args=[run.pk])).status_code == 403
    assert not Lead.objects.exists()


def test_export_has_each_lead_with_owner_and_status():
    rep = RepFactory(email="ana@example.com", name="Ana Ruiz")
    LeadFactory(status="assigned", owner=rep, external_id="E-1")
    LeadFactory(external_id="E-2")
    data = LeadExportResource().export()
    rows = {row["external_id"]: row for row in data.dict}
    assert {"owner", "owner_name", "status", "email", "country"} <= set(data.headers)
    assert (rows["E-1"]["owner"], rows["E-1"]["owner_name"], rows["E-1"]["status"]) == (
        "ana@example.com",
        "Ana Ruiz",
        "assigned",
    )
    assert (rows["E-2"]["owner"], rows["E-2"]["status"]) in {("", "pending"), (None, "pending")}


def test_an_exported_file_imports_back_as_duplicates(tmp_path):
    LeadFactory.create_batch(3, status="assigned", owner=RepFactory(), extra={"campaign": "spring", "n": 2})
    path = tmp_path / "export.csv"
    path.write_text(LeadExportResource().export().csv, encoding="utf-8")
    out, err = run_import(path)
    assert "3 rows: created 0, duplicates 3, errors 0" in out, err
    Lead.objects.all().delete()
    out, err = run_import(path)
    assert "3 rows: created 3, duplicates 0, errors 0" in out, err
    assert {tuple(sorted(lead.extra.items())) for lead in Lead.objects.all()} == {(("campaign", "spring"), ("n", 2))}
