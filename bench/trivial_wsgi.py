"""The floor for bench/intake.py (a): a WSGI app that reads the POST body and answers a fixed 201
JSON, with no Django, no database and no Redis, under the same gunicorn and load client."""

BODY = b'{"id": 1, "status": "pending"}'


def application(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
