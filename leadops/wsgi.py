"""The WSGI entry point (gunicorn leadops.wsgi -c gunicorn.conf.py).

A lead post with an integration key (POST /api/leads/) is answered by leadops/api/lean.py when it creates
the lead, without Django's handler, middleware or DRF; whatever else it sees goes on to the stack below.

API calls (/api/…, not its docs pages) go through a lean middleware stack (settings.API_MIDDLEWARE):
no messages, no clickjacking header, no static files and no CSRF middleware (DRF's session
authentication checks CSRF itself). Every other path gets settings.MIDDLEWARE. Measured under
gunicorn in bench/intake.py (README, Benchmarks).

Chunked request bodies: gunicorn passes a body sent with `Transfer-Encoding: chunked` as a stream that
ends by itself (`wsgi.input_terminated`) and no CONTENT_LENGTH, and Django then reads an empty body. The
wrapper below reads such a body first, up to a cap, into a spooled file and gives Django its length, so
it is read like any other; the API's parser still answers 413 over DATA_UPLOAD_MAX_MEMORY_SIZE.
"""

import os
import tempfile

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadops.settings")

CHUNK = 64 * 1024
IN_MEMORY = 1024 * 1024


def _body_cap() -> int:
    """Bytes read at most: one more than the largest body anything accepts, so an oversized body still
    shows as oversized (the API's 413, the admin's file-size error) without being read to its end."""
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, settings.IMPORT_MAX_FILE_MB * 1024 * 1024) + 1


def read_chunked_bodies(app):
    def wrapper(environ, start_response):
        if (
            environ.get("wsgi.input_terminated")
            and not environ.get("CONTENT_LENGTH")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
            stream, left = environ["wsgi.input"], _body_cap()
            while left > 0:
                data = stream.read(min(CHUNK, left))
                if not data:
                    break
                body.write(data)
                left -= len(data)
            environ["CONTENT_LENGTH"] = str(body.tell())
            body.seek(0)
            environ["wsgi.input"] = body
        return app(environ, start_response)

    return wrapper


site = get_wsgi_application()  # sets Django up


def _handler_with(middleware: list[str]):
    from django.core.handlers.wsgi import WSGIHandler

    full = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware  # read once, by the handler's constructor
    try:
        return WSGIHandler()
    finally:
        settings.MIDDLEWARE = full


api = _handler_with(settings.API_MIDDLEWARE)

from leadops.api import lean  # noqa: E402 (needs the apps, set up above)

PAGES_UNDER_API = ("/api/docs/", "/api/schema/")  # browsable pages: the full stack (CSRF cookie, framing)


def dispatch(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if lean.takes(environ):
        return lean.lead_post(environ, start_response, full_stack=api)
    handler = api if path.startswith("/api/") and not path.startswith(PAGES_UNDER_API) else site
    return handler(environ, start_response)


application = read_chunked_bodies(dispatch)
