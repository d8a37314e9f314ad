"""The second floor for bench/intake.py (a): what a post cannot avoid, without Django.

A WSGI app that checks the token against a fixed value, parses the JSON body, INSERTs the lead row
with psycopg (a prepared statement on one connection per worker, autocommit), makes one Redis round
trip (as intake's coalescing enqueue does) and answers 201 with the id. Under the same gunicorn and
load client as the API, its CPU per request is the database + Redis + HTTP floor that any
implementation of the API pays on this machine; the API's cost above it is the framework's.
"""

import json
import os

import psycopg
import redis

BODY_FIELDS = ("email", "first_name", "last_name", "company", "industry", "country", "region")
INSERT = (
    "INSERT INTO leadops_lead (source, external_id, email, email_domain, first_name, last_name, phone, company,"
    " industry, country, region, city, postal_code, product_interest, language, extra, status, routing_error,"
    " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, '', %s, %s, %s, %s, '', '', '', '', %s, 'pending', '',"
    " now(), now()) RETURNING id"
)
_db = None
_redis = None


def _connections():
    global _db, _redis
    if _db is None:
        url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        _db = psycopg.connect(url, autocommit=True, prepare_threshold=0)
        _redis = redis.Redis.from_url(os.environ["REDIS_URL"])
    return _db, _redis


def application(environ, start_response):
    db, queue = _connections()
    if not environ.get("HTTP_AUTHORIZATION", "").startswith("Token "):
        start_response("401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    lead = json.loads(environ["wsgi.input"].read(length) or b"{}")
    email = lead.get("email", "")
    values = [lead.get(name, "") for name in BODY_FIELDS]
    row = db.execute(
        INSERT,
        (
            "bench-floor",
            lead.get("external_id"),
            email,
            email.rpartition("@")[2],
            *values[1:],
            json.dumps(lead.get("extra") or {}),
        ),
    ).fetchone()
    queue.rpush("leadops:bench-floor", row[0])
    body = json.dumps({"id": row[0], "status": "pending"}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
