from django.urls import path

from leadops.api import views

urlpatterns = [
    path("leads/", views.LeadListCreateView.as_view(), name="api-leads"),
    path("leads/bulk/", views.LeadBulkCreateView.as_view(), name="api-leads-bulk"),
    path("leads/<int:pk>/", views.LeadDetailView.as_view(), name="api-lead"),
    path("leads/<int:pk>/events/", views.LeadEventCreateView.as_view(), name="api-lead-events"),
]
