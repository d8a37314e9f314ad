"""The demo's receiver page (DEBUG only): a real delivery arrives signed and the page says the signature checks out."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from leadops.tests.factories import LeadFactory
from notifications.models import Delivery
from notifications.services.render import deliveries_render
from notifications.tests.factories import ChannelFactory
from notifications.views import PATH, RECEIVED_KEY
from reps.tests.factories import RepFactory, TeamFactory
from routing.services import leads_route
from routing.tests.factories import RuleFactory

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_the_receiver_shows_a_delivered_body_and_checks_its_signature(client, admin_client):
    cache.delete(RECEIVED_KEY)
    team = TeamFactory()
    RepFactory(team=team, notify_email=False)
    RuleFactory(pool_team=team)
    ChannelFactory(name="Demo receiver", url=f"http://127.0.0.1:8000{PATH}", secret="whsec_demo")
    lead = LeadFactory(company="Acme Receiver GmbH")
    leads_route(lead_ids=[lead.id])
    delivery = Delivery.objects.get()
    message = deliveries_render([delivery])[delivery.id]
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in message.headers.items() if k != "Content-Type"}
    client.post(PATH, message.body, content_type="application/json", **headers)
    tampered = message.body.replace(b"Acme", b"Evil")
    client.post(PATH, tampered, content_type="application/json", **headers)
    page = admin_client.get(PATH).content.decode()
    assert page.count('class="delivery"') == 2 and "Acme Receiver GmbH" in page
    assert "checks out" in page and "does not check out" in page


def test_the_receiver_does_not_exist_when_debug_is_off(client, admin_client):
    assert client.post(PATH, b"{}", content_type="application/json").status_code == 404
    assert admin_client.get(PATH).status_code == 404
