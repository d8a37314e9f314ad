"""GET /: each user to their page. GET /healthz: 200 when the database (and Redis, where configured) answer;
503 naming what is down."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _redis_ok() -> bool:
    try:
        import django_rq

        return bool(django_rq.get_connection("default").ping())
    except Exception:
        return False


@require_GET
def healthz(request):
    checks = {"database": "ok" if _database_ok() else "down"}
    if settings.REDIS_URL:
        checks["redis"] = "ok" if _redis_ok() else "down"
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "down" if down else "ok", **checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


@require_GET
def home(request):
    """A rep to /queue/, ops (staff) to /admin/, managers to /reports/; anyone else to the login."""
    user = request.user
    if not user.is_authenticated:
        return redirect("queue:login")
    if hasattr(user, "rep"):
        return redirect("queue:index")
    if user.is_staff:
        return redirect("admin:index")
    if user.has_perm("reports.view_reports"):
        return redirect("reports:index")
    return redirect("queue:index")  # says plainly that no rep is linked to this login
