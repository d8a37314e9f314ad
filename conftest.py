"""Project-wide test fixtures and skips for tests that need real Postgres, Redis or Chromium."""

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection, connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API inside pytest-django

# Property tests judge behaviour, not speed: on a busy CI machine input generation may be slow,
# which is no defect of ours (example counts stay as each test sets them).
hypothesis_settings.register_profile(
    "leadops", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
hypothesis_settings.load_profile("leadops")


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(settings.REDIS_URL)
    has_chromium = shutil.which("chromium") is not None or os.path.exists("/usr/bin/chromium")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(
                pytest.mark.skip(
                    reason=(
                        "needs PostgreSQL: set DATABASE_URL=postgres://… "
                        "(row locks, a second connection: not testable on SQLite)"
                    )
                )
            )
        if "redis" in item.keywords and not has_redis:
            item.add_marker(
                pytest.mark.skip(reason="needs a real Redis: set REDIS_URL=redis://… (workers run inline without it)")
            )
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(
                pytest.mark.skip(reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)")
            )


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def chromium():
    """Debian's Chromium through Playwright (never `playwright install`), headless; closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        # Playwright's sync API runs the test in a greenlet with its own context, hence its own
        # database connection: close it, or pytest cannot drop the test database afterwards.
        connections.close_all()


@pytest.fixture(autouse=True)
def _report_figures_not_shared(settings):
    """Each test computes its own report figures: reports/cache.py shares them between views for a
    minute, which would carry one test's figures into the next (its own tests turn it back on)."""
    settings.REPORT_CACHE_SECONDS = 0
