"""JSON bodies with a size limit: DRF reads the request stream itself, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE never sees a JSON body; this parser enforces it (413)."""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

from leadops.api.exceptions import PayloadTooLarge


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def json_loads(raw: bytes, encoding: str):
    """A body as the API reads JSON (NaN and Infinity refused under STRICT_JSON). Raises ValueError,
    UnicodeDecodeError, LookupError (an unknown charset) or RecursionError (nested too deeply)."""
    return json.loads(raw.decode(encoding), parse_constant=_reject_constant if api_settings.STRICT_JSON else None)


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if request is not None and limit is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise PayloadTooLarge()
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge()
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            return json_loads(raw, encoding)
        except (ValueError, UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
