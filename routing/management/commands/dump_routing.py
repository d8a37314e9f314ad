"""python manage.py dump_routing — the routing set-up as JSON on standard output."""

from django.core.management.base import BaseCommand

from routing.routing_file import routing_config_dumps


class Command(BaseCommand):
    help = (
        "Print skills, teams, territories, reps (with skills, time off, working hours) and rules as JSON, "
        "sorted by natural key (rules by priority), in the format load_routing reads. Dump then load changes nothing."
    )

    def handle(self, *args, **options):
        self.stdout.write(routing_config_dumps(), ending="")
