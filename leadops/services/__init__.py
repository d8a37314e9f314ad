"""Lead intake workflows: everything that writes leads, events and integrations goes through here."""

from leadops.errors import DomainError, IntakeConflict, IntakeError
from leadops.services.events import lead_event_record
from leadops.services.integrations import (
    integration_create,
    integration_key_rotate,
    integration_sources_clean,
    integrations_revoke,
)
from leadops.services.leads import (
    BULK_MAX_ITEMS,
    CREATED,
    DUPLICATE,
    ERROR,
    ItemResult,
    integration_source,
    lead_create,
    lead_facts_update,
    lead_input_checked,
    leads_create_bulk,
    leads_store,
)
from leadops.services.normalise import lead_input_clean

__all__ = [
    "BULK_MAX_ITEMS",
    "CREATED",
    "DUPLICATE",
    "ERROR",
    "DomainError",
    "IntakeConflict",
    "IntakeError",
    "ItemResult",
    "integration_create",
    "integration_key_rotate",
    "integration_source",
    "integration_sources_clean",
    "integrations_revoke",
    "lead_create",
    "lead_event_record",
    "lead_facts_update",
    "lead_input_checked",
    "lead_input_clean",
    "leads_create_bulk",
    "leads_store",
]
