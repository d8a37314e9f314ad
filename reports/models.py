from django.db import models


class ReportAccess(models.Model):
    """Holds the `reports.view_reports` permission; no rows are stored."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view manager reports")]

    def __str__(self) -> str:
        return "report access"
