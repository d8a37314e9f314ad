"""python manage.py load_routing FILE.json — the routing set-up from a file (see routing/routing_file.py)."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from routing.routing_file import RoutingFileError, routing_config_load


class Command(BaseCommand):
    help = (
        "Load skills, teams, territories, reps and rules from a JSON file (the dump_routing format). "
        "Validates the whole file first; a bad file changes nothing and every error names the entry and field. "
        "Then upserts by natural key (skill name, team name, territory name, rep email, rule name) in one "
        "transaction. Rules absent from the file are deactivated (never deleted); skills, teams, territories "
        "and reps absent from the file are left as they are. Inside an entry, omitted fields take their defaults."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the routing JSON file, or - for standard input.")

    def handle(self, *args, file, **options):
        try:
            if file == "-":
                data = json.load(sys.stdin)
            else:
                with open(file, encoding="utf-8") as handle:
                    data = json.load(handle)
        except OSError as err:
            raise CommandError(f"Cannot read {file}: {err.strerror}") from err
        except json.JSONDecodeError as err:
            raise CommandError(f"{file} is not valid JSON: line {err.lineno}, column {err.colno}: {err.msg}") from err
        try:
            summary = routing_config_load(data)
        except RoutingFileError as err:
            raise CommandError(f"{file} was not loaded; nothing changed:\n" + "\n".join(err.messages)) from err
        if not summary.changed:
            self.stdout.write("Nothing to change: the routing set-up already matches the file.")
            return
        for section in summary.created:
            created, updated = summary.created[section], summary.updated[section]
            if created or updated:
                self.stdout.write(f"{section}: {created} created, {updated} updated")
        for name in summary.deactivated_rules:
            self.stdout.write(f"rule deactivated (not in the file): {name}")
        if summary.rule_set_version:
            self.stdout.write(f"Rule set is now version {summary.rule_set_version}.")
