from django.urls import path, register_converter

from leadops.api import views


class SignedIntConverter:
    """Any whole number, so `/api/leads/-1/` is the API's JSON 404 (no such lead), not Django's HTML one."""

    regex = "-?[0-9]+"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(SignedIntConverter, "lead_id")

urlpatterns = [
    path("leads/", views.LeadListCreateView.as_view(), name="api-leads"),
    path("leads/bulk/", views.LeadBulkCreateView.as_view(), name="api-leads-bulk"),
    path("leads/<lead_id:pk>/", views.LeadDetailView.as_view(), name="api-lead"),
    path("leads/<lead_id:pk>/events/", views.LeadEventCreateView.as_view(), name="api-lead-events"),
]
