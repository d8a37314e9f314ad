"""python manage.py restore_routing N — make routing version N current again (as a new version)."""

from django.core.management.base import BaseCommand, CommandError

from routing.routing_file import RoutingFileError, routing_version_restore


class Command(BaseCommand):
    help = (
        "Make routing version N current: its set-up is checked and loaded like load_routing (all or nothing) and "
        "recorded as a new version whose changes begin 'restored from vN'. A version that no longer validates "
        "(a rep deleted since, a skill gone) changes nothing and says why. See routing_history for the numbers."
    )

    def add_arguments(self, parser):
        parser.add_argument("number", type=int, help="The version number, as routing_history prints it (v12 → 12).")

    def handle(self, *args, number, **options):
        try:
            summary = routing_version_restore(number=number)
        except RoutingFileError as err:
            raise CommandError(f"v{number} was not restored; nothing changed:\n" + "\n".join(err.messages)) from err
        if summary.rule_set_version is None:
            self.stdout.write(f"Nothing to change: the routing set-up already matches v{number}.")
            return
        self.stdout.write(f"Restored v{number} as v{summary.rule_set_version}:")
        for line in summary.changes[1:]:
            self.stdout.write(f"  {line}")
