"""One mapping of errors to HTTP: domain errors 400/409, too-large bodies 413, the rest DRF's."""
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler

from leadops.api.exceptions import PayloadTooLarge
from leadops.services.errors import DomainError


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        code = status.HTTP_409_CONFLICT if exc.conflict else status.HTTP_400_BAD_REQUEST
        return Response(exc.errors, status=code)
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, ObjectDoesNotExist):
        exc = NotFound()
    return exception_handler(exc, context)
