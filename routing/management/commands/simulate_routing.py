"""python manage.py simulate_routing [DRAFT.json | --version N] [--start DATE] [--end DATE] [--source S] [--json]"""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from routing.routing_file import RoutingFileError
from routing.simulation import routing_simulate


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as err:
        raise CommandError(f"{text!r} is not a date like 2026-11-30.") from err


class Command(BaseCommand):
    help = (
        "Replay the leads created in a period (default: the last 30 days; dates inclusive, server zone), oldest "
        "first, through the routing engine under a draft routing file, a stored version (--version N), or the "
        "current set-up, and compare with what really happened: per rep, per rule, unroutable, pooled, and the "
        "leads whose first owner would change. Writes nothing. --json prints one object."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version means a routing version and replaces Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("draft", nargs="?", help="A routing file (the dump_routing format) to try.")
        parser.add_argument("--version", type=int, dest="number", help="Simulate routing version N instead.")
        parser.add_argument("--start", type=_date, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=_date, help="Last day (YYYY-MM-DD), included.")
        parser.add_argument("--source", help="Only leads from this source.")
        parser.add_argument("--json", action="store_true", help="Print the comparison as one JSON object.")

    def handle(self, *args, draft=None, number=None, start=None, end=None, source=None, **options):
        if draft and number is not None:
            raise CommandError("Give a draft file or --version N, not both.")
        data = _read(draft) if draft else None
        try:
            simulation = routing_simulate(draft=data, version=number, start=start, end=end, source=source)
        except RoutingFileError as err:
            raise CommandError("Cannot simulate; nothing was changed:\n" + "\n".join(err.messages)) from err
        result, t = simulation.result, simulation.timings
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
            return
        self.stdout.write(_table(result))
        self.stdout.write(f"\nloading {t.loading:.2f} s, deciding {t.deciding:.2f} s, comparing {t.comparing:.2f} s")


def _read(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as err:
        raise CommandError(f"Cannot read {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise CommandError(f"{path} is not valid JSON: line {err.lineno}, column {err.colno}: {err.msg}") from err


def _rows(title: str, rows: list[tuple]) -> list[str]:
    width = max([len(title), *(len(str(r[0])) for r in rows)])
    lines = [f"{title:<{width}}  {'actual':>8}  {'simulated':>9}  {'change':>7}"]
    for name, actual, simulated in rows:
        lines.append(f"{name!s:<{width}}  {actual:>8}  {simulated:>9}  {simulated - actual:>+7}")
    return lines


def _table(result: dict) -> str:
    lines = [
        f"{result['leads']} leads created {result['start']} – {result['end']}; "
        f"{result['changed_owner']} would get another first owner.",
        "",
    ]
    lines += _rows("rep", [(r["email"], r["actual"], r["simulated"]) for r in result["reps"]])
    lines += ["", *_rows("rule", [(r["name"], r["actual"], r["simulated"]) for r in result["rules"]])]
    lines += [
        "",
        *_rows("outcome", [(k, result[k]["actual"], result[k]["simulated"]) for k in ("unroutable", "pooled")]),
    ]
    if result["changed"]:
        lines += ["", "Leads whose first owner would change (up to 100):"]
        for c in result["changed"]:
            lines.append(
                f"  lead {c['lead_id']}: {c['actual_rep'] or 'no owner'} → {c['simulated_rep'] or 'no owner'}"
                f" ({c['simulated_rule'] or 'no rule'}): {c['reason']}"
            )
    return "\n".join(lines)
