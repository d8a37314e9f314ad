"""python manage.py rollups_fold: fold the assignments' logged changes into the report rollups now.

The job does it every minute (routing.cron); after an upgrade that logs the whole history as changed
(migrations reports 0003, 0004), this rolls it up at once instead of at the next minute."""

from django.core.management.base import BaseCommand
from django.db import connection

from reports.rollups import rollups_fold


class Command(BaseCommand):
    help = "Fold the logged changes to the assignments into the report rollups (Postgres; nothing to do elsewhere)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Nothing to fold: the rollups are kept on PostgreSQL only; reports read the assignments.")
            return
        days = rollups_fold()
        self.stdout.write(f"{days} day{'s' if days != 1 else ''} rolled up again.")
