from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from leadops.models import Integration

# last_used_at is refreshed at most this often: one UPDATE per minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class IntegrationPrincipal:
    """The request.user of an API call made with an integration key."""

    is_authenticated = True
    is_staff = False
    is_superuser = False
    is_anonymous = False

    def __init__(self, integration: Integration):
        self.integration = integration
        self.pk = None

    def __str__(self) -> str:
        return f"integration:{self.integration.name}"


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>`; keys are looked up by their SHA-256 hash."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Token <key>.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The key contains characters a key never has.")
        integration = Integration.objects.filter(key_hash=Integration.hash_key(key), active=True).first()
        if integration is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked integration key.")
        now = timezone.now()
        if integration.last_used_at is None or now - integration.last_used_at > LAST_USED_RESOLUTION:
            Integration.objects.filter(pk=integration.pk).update(last_used_at=now)
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return self.keyword


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationTokenAuthentication
    name = "IntegrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Token <key>`: a key made in the admin or by `manage.py create_integration NAME`.",
        }
