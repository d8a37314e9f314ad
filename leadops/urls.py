from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("leadops.api.urls")),
    path("reports/", include("reports.urls")),
    path("django-rq/", include("django_rq.urls")),
]
