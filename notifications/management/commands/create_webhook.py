"""python manage.py create_webhook NAME URL [--events E1,E2] [--team TEAM] [--format json|slack]."""

from django.core.management.base import BaseCommand, CommandError

from leadops.errors import DomainError
from notifications.models import Event
from notifications.services.channels import channel_create


class Command(BaseCommand):
    help = "Make a webhook channel and print its signing secret (shown once), alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("url")
        parser.add_argument("--events", default="", help=f"comma-separated, of {', '.join(Event.values)}; default all")
        parser.add_argument("--team", default=None, help="only leads whose owner (or pool) belongs to this team")
        parser.add_argument("--format", default="json", choices=["json", "slack"])

    def handle(self, *args, name, url, events, team, format, **options):
        try:
            channel, secret = channel_create(name=name, url=url, format=format, events=events.split(","), team=team)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        wanted = ", ".join(channel.events) or "every event"
        self.stdout.write(f"Channel “{channel.name}” ({channel.format}) posts {wanted} to {channel.url}.")
        self.stdout.write("Its signing secret is shown once; store it now:")
        self.stdout.write(secret)
