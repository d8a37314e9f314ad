"""Chunked request bodies are read (issue 13, defect 6): a lead posted with Transfer-Encoding: chunked
is stored, and a chunked body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, through a real gunicorn."""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from leadops.models import Lead
from leadops.tests.factories import IntegrationFactory

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(transactional_db):
    """gunicorn serving leadops.wsgi on loopback, on the test database (committed rows: transactional)."""
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "DATA_UPLOAD_MAX_MEMORY_SIZE": str(200_000)}
    env.pop("REDIS_URL", None)  # jobs run inline in the server
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "leadops.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start within 30 s")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def post_chunked(port: int, path: str, body: bytes, key: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", path)
    conn.putheader("Authorization", f"Token {key}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for start in range(0, len(body), 1000):
        piece = body[start : start + 1000]
        conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    conn.send(b"0\r\n\r\n")
    response = conn.getresponse()
    answer = response.status, json.loads(response.read() or b"{}")
    conn.close()
    return answer


@pytest.mark.postgres
def test_a_chunked_lead_is_read_and_a_chunked_body_over_the_limit_is_413(gunicorn):
    integration = IntegrationFactory(rate_limit_per_minute=1_000_000)
    body = json.dumps({"external_id": "CH-1", "email": "chunked@example.com", "company": "Chunk AG"}).encode()
    status, answer = post_chunked(gunicorn, "/api/leads/", body, integration.raw_key)
    assert status == 201, answer
    assert Lead.objects.get(pk=answer["id"]).email == "chunked@example.com"

    big = json.dumps([{"phone": "1", "company": "x" * 150}] * 2000).encode()  # ~370 kB > 200 kB
    status, answer = post_chunked(gunicorn, "/api/leads/bulk/", big, integration.raw_key)
    assert status == 413 and "larger than" in answer["detail"]
    assert Lead.objects.count() == 1


def test_the_wsgi_wrapper_gives_django_a_chunked_bodys_length():
    import io

    from leadops.wsgi import read_chunked_bodies

    seen = {}

    def app(environ, start_response):
        seen["length"] = environ["CONTENT_LENGTH"]
        seen["body"] = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        return []

    environ = {
        "wsgi.input_terminated": True,
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b'{"phone": "1"}'),
    }
    read_chunked_bodies(app)(environ, None)
    assert seen == {"length": "14", "body": b'{"phone": "1"}'}
