from django.contrib.auth import views as auth_views
from django.urls import path

from leadops.login_throttle import ThrottledAuthenticationForm

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.RepReportView.as_view(), name="index"),
    path("reps/<int:rep_id>/", views.RepPageView.as_view(), name="rep"),
    path("reps.csv", views.RepReportCsvView.as_view(), name="reps_csv"),
    path("plotly.min.js", views.plotly_js, name="plotly_js"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="reports:login"), name="logout"),
]
