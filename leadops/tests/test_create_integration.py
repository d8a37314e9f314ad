import io

import pytest
from django.core.management import CommandError, call_command

from leadops.models import Integration
from leadops.tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_create_integration_prints_the_key_alone_on_its_last_line_and_stores_only_its_hash():
    out = io.StringIO()
    call_command("create_integration", "Webform", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    integration = Integration.objects.get(name="Webform")
    assert key.startswith("lo_") and integration.key_hash == Integration.hash_key(key)
    integration.raw_key = key
    assert client_for(integration).post("/api/leads/", {"email": "a@example.com"}, format="json").status_code == 201


def test_create_integration_refuses_a_name_in_use():
    call_command("create_integration", "Webform", stdout=io.StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_integration", "Webform", stdout=io.StringIO())
