from datetime import timedelta

from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from leadops.models import Integration
from leadops.prepared import fetchone_prepared

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
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("The key contains characters a key never has.") from exc
        integration = integration_for_key(key)
        if integration is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked integration key.")
        return IntegrationPrincipal(integration), integration

    def authenticate_header(self, request):
        return self.keyword


def integration_for_key(key: str) -> Integration | None:
    """The active integration this key belongs to (None: unknown or revoked), its last use noted."""
    integration = _active_integration(Integration.hash_key(key))
    if integration is not None:
        now = timezone.now()
        if integration.last_used_at is None or now - integration.last_used_at > LAST_USED_RESOLUTION:
            Integration.objects.filter(pk=integration.pk).update(last_used_at=now)
    return integration


_COLUMNS = [f.attname for f in Integration._meta.concrete_fields]
# Columns whose Python value is not what psycopg returns (JSON arrives as text): (position, field).
_CONVERTED = [(i, f) for i, f in enumerate(Integration._meta.concrete_fields) if hasattr(f, "from_db_value")]
_lookup_sql: str | None = None


def _active_integration(key_hash: str) -> Integration | None:
    """The active integration with this key hash. On Postgres the indexed SELECT, run on every
    API call, is written out and prepared: the ORM spends longer compiling it than Postgres answering
    it (psycopg returns the model's Python types but for JSON, which goes through its field's converter)."""
    global _lookup_sql
    if connection.vendor != "postgresql":
        return Integration.objects.filter(key_hash=key_hash, active=True).first()
    if _lookup_sql is None:
        quote = connection.ops.quote_name
        _lookup_sql = (
            f"SELECT {', '.join(quote(f.column) for f in Integration._meta.concrete_fields)} "
            f"FROM {quote(Integration._meta.db_table)} WHERE key_hash = %s AND active"
        )
    row = fetchone_prepared(_lookup_sql, [key_hash], checks_health=True)
    if row is None:
        return None
    row = list(row)
    for at, field in _CONVERTED:
        row[at] = field.from_db_value(row[at], None, connection)
    return Integration.from_db(connection.alias, _COLUMNS, row)


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationTokenAuthentication
    name = "IntegrationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a key made in the admin or by `manage.py create_integration NAME`.",
        }
