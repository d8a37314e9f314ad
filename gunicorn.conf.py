"""gunicorn settings: `gunicorn leadops.wsgi -c gunicorn.conf.py` (bench/intake.py runs the same).

Sync workers: a post is ~1–2 ms of CPU and a few short waits on Postgres and Redis, so one
request per process at a time, without gthread's per-request thread hand-off. Two processes per
core, so that one uses the core while the other waits on Postgres or Redis: on this 2-core box,
the highest rate with p99 ≤ 100 ms was 400–600 posts/s with 4 workers against 300–500 with 3
and 400 with 5 (bench/intake.py: README, Benchmarks). The
API's clients send small bodies and do not hold connections open; behind a proxy that buffers
(nginx), sync workers are the documented fit. Every setting can be overridden from the environment.
"""

import os

workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
backlog = 2048
keepalive = 2
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # one line per request costs CPU; off unless asked
