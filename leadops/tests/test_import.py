"""Importing leads from files: the admin (django-import-export) and `manage.py import_leads`."""

import io
import re

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from leadops.models import Lead
from leadops.resources import LeadExportResource, LeadImportResource
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


def admin_import(resource, text, *, dry_run):
    dataset = tablib.Dataset().load(text, format="csv")
    return resource.import_data(dataset, dry_run=dry_run, raise_errors=False)


def test_admin_import_reports_invalid_rows_by_number_and_imports_the_good_ones(routing_calls):
    result = admin_import(LeadImportResource(), MESSY_CSV, dry_run=False)
    assert not result.has_errors()
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4}
    assert "“not-an-email”" in invalid[2]["email"][0]
    assert "Narnia" in invalid[3]["country"][0]
    assert set(invalid[4]) == {"company_size", "score"}
    assert result.totals["new"] == 2 and result.totals["skip"] == 1
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"R-1", "R-5"}
    assert Lead.objects.get(external_id="R-1").source == "import"
    assert sorted(sum(routing_calls, [])) == sorted(Lead.objects.values_list("id", flat=True))


def test_admin_reimport_creates_nothing_and_dry_run_writes_nothing():
    preview = admin_import(LeadImportResource(), MESSY_CSV, dry_run=True)
    assert preview.totals["new"] == 2 and Lead.objects.count() == 0
    admin_import(LeadImportResource(), MESSY_CSV, dry_run=False)
    again = admin_import(LeadImportResource(), MESSY_CSV, dry_run=False)
    assert again.totals["new"] == 0 and again.totals["skip"] == 3
    assert Lead.objects.count() == 2


def test_the_admin_import_page_previews_bad_rows_and_still_offers_the_import(admin_client):
    upload = io.BytesIO(MESSY_CSV.encode())
    upload.name = "leads.csv"
    response = admin_client.post(
        reverse("admin:leadops_lead_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not-an-email" in html and "Narnia" in html
    assert 'name="confirm"' in html and "3 rows have errors" in html
    assert Lead.objects.count() == 0
    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    done = admin_client.post(
        reverse("admin:leadops_lead_process_import"), {**confirm, "confirm": "Confirm import"}, follow=True
    )
    assert done.status_code == 200
    assert set(Lead.objects.values_list("external_id", flat=True)) == {"R-1", "R-5"}
    assert "3 rows had errors and were not imported (rows 2, 3, 4)" in done.content.decode()


def test_import_needs_the_add_lead_permission(client, django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:leadops_lead_import")).status_code == 403


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
