"""Thin API views: translate the request, call one service or selector, translate the result."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from leadops.api.parsers import LimitedJSONParser
from leadops.api.permissions import SESSION_PERMISSIONS, IsIntegrationOrPermittedUser
from leadops.api.serializers import (
    BulkResultSerializer,
    EventInputSerializer,
    EventSerializer,
    LeadInputSerializer,
    LeadSerializer,
)
from leadops.api.throttling import IntegrationRateThrottle
from leadops.errors import IntakeError
from leadops.filters import LeadFilter
from leadops.models import Lead
from leadops.selectors import lead_get, lead_list, lead_wait_routed
from leadops.services import BULK_MAX_ITEMS, integration_source, lead_create, lead_event_record, leads_create_bulk

STAFF_SOURCE = "manual"
JSON_RENDERER = JSONRenderer()

# The answers every call may give besides its own (PRODUCT.md "REST API"): documented so the schema is true.
_DETAIL = inline_serializer("Detail", fields={"detail": serializers.CharField()})
_FIELDS = OpenApiTypes.OBJECT  # {"<field>": ["why", …]} or {"detail": "…"}
ERRORS = OpenApiResponse(_FIELDS, description='Bad input: each bad field and why, {"email": ["…"]}.')
CONFLICT = OpenApiResponse(_FIELDS, description="Clashes with a stored lead; the body names the field.")
UNAUTHORIZED = OpenApiResponse(_DETAIL, description="No key, or an unknown or revoked key.")
FORBIDDEN = OpenApiResponse(
    _FIELDS, description="Not allowed: a user without the lead permission, or a `source` that is not the integration's."
)
NOT_FOUND = OpenApiResponse(_DETAIL, description="No such lead, or one another integration sent.")
TOO_LARGE = OpenApiResponse(_DETAIL, description="The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.")
NOT_JSON = OpenApiResponse(_DETAIL, description="The body is not application/json.")
TOO_FAST = OpenApiResponse(_DETAIL, description="Over the integration's rate limit; see Retry-After.")
LEAD_ID = OpenApiParameter("id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The lead's id.")
EVERY_CALL = {401: UNAUTHORIZED, 403: FORBIDDEN, 429: TOO_FAST}
EVERY_POST = {**EVERY_CALL, 400: ERRORS, 413: TOO_LARGE, 415: NOT_JSON}
LEAD_RULES = (
    "A lead needs an `email` or a `phone` (400 naming `email` otherwise). Text fields take null as empty. "
    "`source` defaults to the integration's name; an integration may post only under its own sources (403 "
    "naming them). Unknown fields are refused (400): custom values go in `extra`."
)

# --- POST /api/leads/?wait=N: a web form waits (at most WAIT_MAX seconds) for the owner.
WAIT_MAX = 5
WAIT_PARAMETER = OpenApiParameter(
    "wait",
    float,
    description=f"Seconds (0–{WAIT_MAX}) to wait for routing: the answer then carries the owner and the assignment "
    "(e.g. to tell the visitor who will call). At the timeout the lead is answered as it is, still `pending`; it is "
    "routed all the same. No transaction is held while waiting.",
)


def wait_seconds(request) -> float:
    raw = request.query_params.get("wait")
    if raw in (None, ""):
        return 0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= WAIT_MAX:
        raise IntakeError({"wait": [f"Give seconds from 0 to {WAIT_MAX}, e.g. ?wait=2."]})
    return seconds


class IntakeAPIView(GenericAPIView):
    pagination_class = None  # only the list pages
    parser_classes = [LimitedJSONParser]
    permission_classes = [IsIntegrationOrPermittedUser]
    throttle_classes = [IntegrationRateThrottle]
    queryset = Lead.objects.none()  # for the schema's path parameters; reads go through selectors

    def perform_content_negotiation(self, request, force=False):
        """A post is answered in JSON whatever its Accept header asks: negotiating against the browsable
        API's renderer took ~8 % of a post's CPU under gunicorn (py-spy, bench/intake.py). Reads negotiate."""
        if request.method == "POST":
            return JSON_RENDERER, JSON_RENDERER.media_type
        return super().perform_content_negotiation(request, force)

    @property
    def integration(self):
        return getattr(self.request.user, "integration", None)

    def default_source(self) -> str:
        return integration_source(self.integration) if self.integration else STAFF_SOURCE

    def lead_in_scope(self, lead_id: int):
        """The lead if this caller may see it; 404 alike when it does not exist and when another integration sent it."""
        lead = lead_get(lead_id=lead_id, integration=self.integration) if 0 < lead_id < 2**63 else None
        if lead is None:
            raise NotFound("No lead with this id.")
        return lead


class LeadListCreateView(IntakeAPIView):
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def get_queryset(self):
        return lead_list(integration=self.integration)

    @extend_schema(
        summary="List leads (an integration sees only its own)",
        responses={
            200: LeadSerializer(many=True),
            400: ERRORS,
            404: OpenApiResponse(_DETAIL, description="A page past the last one."),
            **EVERY_CALL,
        },
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(LeadSerializer(page, many=True).data)

    @extend_schema(
        summary="Post one lead",
        description="201 with the new lead; 200 with the stored lead when this `source` + `external_id` came before. "
        "409 when that key belongs to a lead this integration did not send. " + LEAD_RULES + " With `?wait=N` the "
        "answer comes once the lead is routed (with its owner and assignment) or after N seconds with the lead still "
        "`pending`.",
        parameters=[WAIT_PARAMETER],
        request=LeadInputSerializer,
        responses={201: LeadSerializer, 200: LeadSerializer, 409: CONFLICT, **EVERY_POST},
    )
    def post(self, request):
        wait = wait_seconds(request)
        lead, created = lead_create(
            data=request.data, integration=self.integration, default_source=self.default_source()
        )
        if wait:
            lead = lead_wait_routed(lead_id=lead.pk, seconds=wait) or lead
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class LeadBulkCreateView(IntakeAPIView):
    serializer_class = LeadInputSerializer  # what OPTIONS describes

    @extend_schema(
        summary=f"Post up to {BULK_MAX_ITEMS:,} leads",
        description="One result per item, in order (an empty list answers an empty list). Valid items are stored "
        "even when others fail; an item that breaks a rule below is an `error` result naming its fields. " + LEAD_RULES,
        request=LeadInputSerializer(many=True),
        responses={200: BulkResultSerializer(many=True), **EVERY_POST},
    )
    def post(self, request):
        if not isinstance(request.data, list):
            raise IntakeError({"non_field_errors": ["Expected a JSON list of leads."]})
        results = leads_create_bulk(
            items=request.data, integration=self.integration, default_source=self.default_source()
        )
        return Response([result.as_dict() for result in results], status=status.HTTP_200_OK)


class LeadDetailView(IntakeAPIView):
    @extend_schema(
        summary="A lead with its owner and current assignment (rule, strategy, reason)",
        parameters=[LEAD_ID],
        responses={200: LeadSerializer, 404: NOT_FOUND, **EVERY_CALL},
    )
    def get(self, request, pk: int):
        return Response(LeadSerializer(self.lead_in_scope(pk)).data)


class LeadEventCreateView(IntakeAPIView):
    serializer_class = EventInputSerializer  # what OPTIONS describes
    session_permissions = {**SESSION_PERMISSIONS, "POST": "leadops.change_lead"}

    @extend_schema(
        summary="Post an outcome event",
        description="contacted, converted, lost, misrouted, released. misrouted and released send the lead back "
        "to routing without that rep. 400 when the event makes no sense for the lead (e.g. no owner); 409 when the "
        "lead is converted or lost already.",
        request=EventInputSerializer,
        parameters=[LEAD_ID],
        responses={201: EventSerializer, 404: NOT_FOUND, 409: CONFLICT, **EVERY_POST},
    )
    def post(self, request, pk: int):
        lead = self.lead_in_scope(pk)
        if not isinstance(request.data, dict):
            raise IntakeError({"non_field_errors": ['Expected a JSON object: {"type": "contacted"}.']})
        serializer = EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user if self.integration is None else None
        event = lead_event_record(lead_id=lead.pk, integration=self.integration, user=user, **serializer.validated_data)
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)
