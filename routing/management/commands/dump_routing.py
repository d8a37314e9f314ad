"""python manage.py dump_routing [--version N] — the routing set-up (now, or as of version N) as JSON."""

from django.core.management.base import BaseCommand, CommandError

from routing.routing_file import routing_config_dumps
from routing.versions import version_document


class Command(BaseCommand):
    help = (
        "Print skills, teams, territories, reps (with skills, time off, working hours) and rules as JSON, "
        "sorted by natural key (rules by priority), in the format load_routing reads. Dump then load changes nothing. "
        "With --version N, print routing version N's set-up instead (see routing_history)."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version means a routing version and replaces Django's (which prints Django's version).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int, dest="number", help="A routing version number (v12 → 12).")

    def handle(self, *args, number=None, **options):
        document = None if number is None else version_document(number)
        if number is not None and document is None:
            raise CommandError(f"There is no routing version v{number}; routing_history lists them.")
        self.stdout.write(routing_config_dumps(document), ending="")
