"""python manage.py watch_sla [--at ISO]: one SLA pass (safe any time, twice, from two machines)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from routing.services.sla import sla_watch


class Command(BaseCommand):
    help = "Breach (once) every current assignment not contacted by its SLA due time; settle the met ones."

    def add_arguments(self, parser):
        parser.add_argument("--at", default=None, help="run as of this ISO time (tests, catch-up); default now")

    def handle(self, *args, at=None, **options):
        moment = None
        if at:
            try:
                moment = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at: “{at}” is not an ISO date-time like 2026-12-05T10:30:00Z") from exc
            if moment.tzinfo is None:
                raise CommandError(f"--at: “{at}” needs a zone, like 2026-12-05T10:30:00Z or +01:00")
        self.stdout.write(sla_watch(at=moment).summary())
