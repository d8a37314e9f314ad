"""One mapping of errors to HTTP: domain errors 400/403/409, too-large bodies 413, DRF's own, and anything
unexpected a JSON 500 {"detail": …} (logged with its traceback) that a client can read and retry."""

import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from leadops.api.exceptions import PayloadTooLarge
from leadops.errors import DomainError, IntakeForbidden
from leadops.services.normalise import printable

logger = logging.getLogger("django.request")
SERVER_ERROR = (
    "The server failed to handle this request. Try again: a lead posted again with the same source and "
    "external_id is not stored twice."
)


def _safe(data):
    """Error bodies echo client input; lone surrogates in it must not break the JSON encoder."""
    if isinstance(data, dict):
        return {printable(k): _safe(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_safe(v) for v in data]
    if isinstance(data, str):
        return printable(data)
    return data


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = status.HTTP_409_CONFLICT if exc.conflict else status.HTTP_400_BAD_REQUEST
        if isinstance(exc, IntakeForbidden):
            code = status.HTTP_403_FORBIDDEN
        return Response(_safe(exc.errors), status=code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound()
    response = exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error(
            "Internal Server Error: %s", getattr(request, "path", "?"), exc_info=exc, extra={"status_code": 500}
        )
        set_rollback()
        return Response({"detail": SERVER_ERROR}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = _safe(response.data)
    return response
