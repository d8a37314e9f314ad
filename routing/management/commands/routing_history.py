"""python manage.py routing_history [--limit N] — routing versions, newest first, one a line."""

from django.core.management.base import BaseCommand

from routing.selectors import routing_versions_list

LINE = 160  # characters a line is shortened to


class Command(BaseCommand):
    help = (
        "Print routing versions newest first, one a line: v<N>  <ISO time>  <who>  <its first changes>. "
        "dump_routing --version N prints a version's set-up; restore_routing N makes it current again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="How many versions to print (default 20).")

    def handle(self, *args, limit, **options):
        versions = routing_versions_list(limit=max(limit, 0))
        if not versions:
            self.stdout.write("No routing versions yet: the first change to the set-up records one.")
        for version in versions:
            head = f"v{version.number}  {version.created_at.isoformat()}  {version.who}  "
            text = "; ".join(version.changes)
            room = max(LINE - len(head), 20)
            self.stdout.write(head + (text if len(text) <= room else text[: room - 1] + "…"))
