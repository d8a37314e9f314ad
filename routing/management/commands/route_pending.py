"""Route every lead waiting longer than the grace period (safe from cron, any time)."""

from django.core.management.base import BaseCommand

from routing.services import leads_route_pending


class Command(BaseCommand):
    help = (
        "Route leads pending longer than ROUTING_PENDING_GRACE_SECONDS and held leads; "
        "send back the open leads of inactive reps and reps on time off."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="ignore the grace period: route every waiting lead now",
        )
        parser.add_argument("--grace", type=int, default=None, metavar="SECONDS", help="override the grace period")

    def handle(self, *args, everything=False, grace=None, **options):
        result = leads_route_pending(grace_seconds=grace, everything=everything)
        self.stdout.write(result.summary())
        for lead_id, message in sorted(result.routed.failed.items()):
            self.stderr.write(f"lead {lead_id}: {message}")
