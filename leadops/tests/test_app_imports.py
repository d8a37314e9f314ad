"""The apps import each other in one direction: any module imports on its own, in any app order.

A worker on another machine may import `routing.jobs` first, and Django's admin autodiscovery
imports admins in INSTALLED_APPS order, so a cycle that happens to work in one order breaks in
another. Each check runs in a fresh interpreter: a module already imported would hide a cycle.
"""

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent

ROOT = Path(settings.BASE_DIR)
OUR_APPS = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]

# One interpreter loads the third-party libraries (never our code, never the settings), then
# forks a child per check: each child is a fresh start for our modules at a fraction of the cost.
SCRIPT = """
import importlib, os, sys, traceback
os.environ["DJANGO_SETTINGS_MODULE"] = "leadops.settings"
for lib in ("django.db.models", "django.http", "django.urls", "django.forms", "openpyxl", "fakeredis",
            "redis", "rq", "psycopg", "plotly.graph_objects", "tablib", "import_export.formats.base_formats"):
    try:
        importlib.import_module(lib)
    except Exception:
        pass
ours = [m for m in sys.modules if m.split(".")[0] in sys.argv[1].split(",")]
assert not ours, ours
failed, running = 0, 0
for line in sys.stdin.read().splitlines():
    order, module = line.split(" ")
    if running >= (os.cpu_count() or 1):  # one child per core at a time
        failed += os.wait()[1] != 0
        running -= 1
    running += 1
    pid = os.fork()
    if pid == 0:
        try:
            from django.conf import settings
            apps = order.split(",")
            settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if a not in apps] + apps
            import django
            django.setup()
            importlib.import_module(module)
        except BaseException:
            print(f"apps {order}, import {module}:", traceback.format_exc(limit=-3), file=sys.stderr, flush=True)
            os._exit(1)
        os._exit(0)
for _ in range(running):
    failed += os.wait()[1] != 0
sys.exit(1 if failed else 0)
"""


def _modules() -> list[str]:
    names = []
    for app in OUR_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or "tests" in parts:
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_first_in_a_fresh_interpreter_with_the_apps_in_every_order():
    modules = _modules()
    orders = list(itertools.permutations(OUR_APPS))
    # Each check takes one app order and imports one module first after setup; pairing them
    # covers every order and every module in max(len(orders), len(modules)) checks.
    runs = [(orders[i % len(orders)], modules[i % len(modules)]) for i in range(max(len(orders), len(modules)))]
    assert "routing.jobs" in modules and len(orders) >= 24
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(OUR_APPS)],
        input="\n".join(f"{','.join(order)} {module}" for order, module in runs),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
