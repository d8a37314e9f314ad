from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self, detail=None, code=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(detail or f"The request body is larger than {limit:,} bytes; send fewer leads per call.", code)
