from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import include, path
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from leadops.login_throttle import ThrottledAdminAuthenticationForm
from leadops.views import healthz, home
from notifications.views import PATH as DEMO_RECEIVER_PATH
from notifications.views import webhook_receiver

admin.site.login_form = ThrottledAdminAuthenticationForm


def superuser_required(view):
    """Anonymous → the admin login; logged in but not a superuser → 403. For pages that can empty
    queues or delete jobs: staff status alone is not enough."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/admin/login/")
        if not (request.user.is_active and request.user.is_superuser):
            raise PermissionDenied("Queue pages are for superusers.")
        return view(request, *args, **kwargs)

    return wrapper


def _stats_for_superusers():
    patterns = get_api_urlpatterns()
    for pattern in patterns:
        pattern.callback = superuser_required(pattern.callback)
    return patterns


# django-rq's pages (queues, jobs, workers, and its stats JSON), every one for superusers only.
django_rq_urls = (_stats_for_superusers() + get_admin_urlpatterns(view_wrapper=superuser_required), "django_rq")

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("leadops.api.urls")),
    path("reports/", include("reports.urls")),
    path("queue/", include("reps.urls")),
    path("django-rq/", include(django_rq_urls)),
    # The demo's webhook receiver: answers 404 unless DEBUG is on (notifications/views.py).
    path(DEMO_RECEIVER_PATH.lstrip("/"), webhook_receiver, name="demo-webhook-receiver"),
]
