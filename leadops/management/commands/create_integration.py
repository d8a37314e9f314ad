"""python manage.py create_integration NAME [--rate-limit N]: prints the new key once, alone on the last line."""

from django.core.management.base import BaseCommand, CommandError

from leadops.services import DomainError, integration_create


class Command(BaseCommand):
    help = "Create an API integration and print its key (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute (default: the server's)")

    def handle(self, *args, name, rate_limit, **options):
        try:
            integration, key = integration_create(name=name, rate_limit_per_minute=rate_limit)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Integration “{integration.name}” created. Its key is shown once; store it now:")
        self.stdout.write(key)
