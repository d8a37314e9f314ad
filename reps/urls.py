from django.urls import path

from . import views

app_name = "queue"
urlpatterns = [
    path("", views.queue, name="index"),
    path("next/", views.lead_claim_next_view, name="next"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("leads/<int:pk>/claim/", views.lead_claim_view, name="claim"),
    path("leads/<int:pk>/outcome/", views.lead_outcome, name="outcome"),
    path("login/", views.QueueLoginView.as_view(), name="login"),
    path("logout/", views.QueueLogoutView.as_view(), name="logout"),
]
