"""Shared admin pieces live in leadops/admin_common.py; no app's admin imports another app's admin."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("leadops", "routing", "reps", "reports")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_app_admin_imports_another_apps_admin_module():
    for app in APPS:
        admin = ROOT / app / "admin.py"
        if not admin.exists():
            continue
        others = {f"{other}.admin" for other in APPS if other != app}
        assert not (_imported_modules(admin) & others), app


def test_the_common_admin_module_imports_nothing_of_ours():
    ours = {m for m in _imported_modules(ROOT / "leadops" / "admin_common.py") if m.split(".")[0] in APPS}
    assert ours == set()
