"""python manage.py check_rules — rule health; exit code 1 when anything is found (for CI and cron)."""

import sys

from django.core.management.base import BaseCommand

from routing.rule_health import rule_health_findings


class Command(BaseCommand):
    help = (
        "Check the active rules: rules shadowed by a higher rule, pools that are empty, inactive, at capacity "
        "or lack the required skills, conditions naming unknown territories or that can never hold, "
        "overlapping territories and "
        "countries of recent leads that no territory covers. Prints each finding; exits 1 when there is any."
    )

    def handle(self, *args, **options):
        findings = rule_health_findings()
        for finding in findings:
            self.stdout.write(str(finding))
        if findings:
            self.stderr.write(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} found.")
            sys.exit(1)
        self.stdout.write(
            "Rules look healthy: nothing shadowed, every pool can take leads, territories do not overlap."
        )
