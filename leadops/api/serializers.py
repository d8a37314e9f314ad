"""API shapes (PRODUCT.md "REST API"). Lead input is cleaned by services.lead_input_clean, the
one normalisation the import shares; LeadInputSerializer only documents it in the schema."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from leadops.models import POSTABLE_EVENT_TYPES, LeadStatus
from leadops.selectors import lead_current_assignment
from leadops.services import normalise as rules


def _text(name: str, **kwargs):
    kwargs.setdefault("allow_null", True)  # null is taken as empty
    return serializers.CharField(max_length=rules.TEXT_FIELDS[name], required=False, allow_blank=True, **kwargs)


class LeadInputSerializer(serializers.Serializer):
    """A lead as an integration posts it: it needs an `email` or a `phone` (400 otherwise). Unknown fields are
    rejected (400): put custom values in `extra`. Text fields take null as empty."""

    external_id = _text(
        "external_id",
        help_text="Your id for the lead; with `source` it makes a repeat post return the stored lead (200).",
    )
    source = _text("source", help_text="Where the lead comes from; default: the integration's name.")
    email = serializers.EmailField(
        max_length=rules.EMAIL_MAX,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Lower-cased. A lead needs an email or a phone.",
    )
    first_name = _text("first_name")
    last_name = _text("last_name")
    phone = _text("phone")
    company = _text("company")
    industry = _text("industry")
    company_size = serializers.IntegerField(
        min_value=0, max_value=rules.COMPANY_SIZE_MAX, required=False, allow_null=True, help_text="Employees."
    )
    annual_revenue = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=0, required=False, allow_null=True, coerce_to_string=False
    )
    country = serializers.CharField(
        max_length=2,
        min_length=2,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="ISO 3166-1 alpha-2; upper-cased.",
    )
    region = _text("region", help_text="State / province code; upper-cased.")
    city = _text("city")
    postal_code = _text("postal_code")
    product_interest = _text("product_interest")
    score = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    language = _text("language")
    extra = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="Up to 50 custom keys; values are text (≤ 1,000 characters), numbers, true/false or null.",
    )


class OwnerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()


class AssignmentSerializer(serializers.Serializer):
    rule = serializers.CharField(
        source="rule_name", allow_null=True, help_text="The deciding rule's name; null when no rule decided."
    )
    strategy = serializers.CharField(allow_null=True)
    decided_by = serializers.CharField(help_text="engine or user")
    assigned_at = serializers.DateTimeField(source="created_at")
    reason = serializers.JSONField(help_text="The decision trace: rules tried and reps skipped, and why.")
    sla_due_at = serializers.DateTimeField(allow_null=True, help_text="Contact by then (the rule's SLA); null: none.")
    sla_breached_at = serializers.DateTimeField(allow_null=True, help_text="When the SLA watch found it breached.")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["rule"] = data["rule"] or None
        data["strategy"] = data["strategy"] or None
        return data


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_null=True)
    source = serializers.CharField()
    status = serializers.ChoiceField(choices=LeadStatus.choices)
    owner = OwnerSerializer(allow_null=True)
    assignment = serializers.SerializerMethodField()
    email = serializers.CharField()
    email_domain = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    company = serializers.CharField()
    industry = serializers.CharField()
    company_size = serializers.IntegerField(allow_null=True)
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, coerce_to_string=False)
    country = serializers.CharField()
    region = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    product_interest = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    language = serializers.CharField()
    extra = serializers.JSONField()
    created_at = serializers.DateTimeField()
    assigned_at = serializers.DateTimeField(allow_null=True)
    first_contacted_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(AssignmentSerializer(allow_null=True))
    def get_assignment(self, lead):
        assignment = lead_current_assignment(lead)
        return AssignmentSerializer(assignment).data if assignment is not None else None

    def to_representation(self, lead):
        """The declared fields above, written out: DRF deep-copies 27 field objects per lead otherwise,
        a tenth of a POST's CPU. The schema still comes from the declarations."""
        data = {name: getattr(lead, name) for name in _PLAIN}
        data["owner"] = (
            {"id": lead.owner.pk, "email": lead.owner.email, "name": lead.owner.name} if lead.owner_id else None
        )
        data["assignment"] = self.get_assignment(lead)
        for name in _TIMES:
            value = getattr(lead, name)
            data[name] = _TIME.to_representation(value) if value is not None else None
        revenue = lead.annual_revenue
        data["annual_revenue"] = float(revenue) if revenue is not None else None
        return {name: data[name] for name in _ORDER}


_TIME = serializers.DateTimeField()
_TIMES = ("created_at", "assigned_at", "first_contacted_at", "closed_at")
_ORDER = tuple(LeadSerializer._declared_fields)
_PLAIN = tuple(name for name in _ORDER if name not in {"owner", "assignment", "annual_revenue", *_TIMES})


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    id = serializers.IntegerField(required=False, help_text="When created or duplicate.")
    errors = serializers.DictField(required=False, help_text="When error: each bad field and why.")


def _valid_unicode(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise serializers.ValidationError("Is not valid Unicode text.") from exc


class EventInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[(t.value, t.label) for t in POSTABLE_EVENT_TYPES])
    at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it happened; default now; not in the future."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", validators=[_valid_unicode]
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({name[:100]: ["Unknown field."] for name in unknown})
        return attrs


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lead = serializers.IntegerField(source="lead_id")
    type = serializers.CharField()
    at = serializers.DateTimeField()
    note = serializers.CharField()
    rep = serializers.IntegerField(
        source="rep_id", allow_null=True, help_text="The lead's owner when the event happened."
    )
