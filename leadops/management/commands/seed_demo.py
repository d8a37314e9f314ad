"""python manage.py seed_demo — a believable demo company with 90 days of routed leads (leadops/demo.py)."""

from django.core.management.base import BaseCommand, CommandError

from leadops.demo import demo_seed
from leadops.errors import DomainError


class Command(BaseCommand):
    help = (
        "Create the demo sales org (teams, reps, skills, nested territories, rules using every strategy and "
        "operator), 90 days of leads with assignments and outcomes, accounts, integrations, and the admin and "
        "manager logins. Deterministic; running it again creates nothing new (the demo passwords are reset)."
    )

    def handle(self, *args, **options):
        try:
            result = demo_seed()
        except DomainError as err:
            raise CommandError(str(err)) from err
        if result.leads_created:
            self.stdout.write(
                f"Demo history: {result.leads_created} leads, {result.assignments_created} assignments, "
                f"{result.events_created} outcome events, {result.accounts_created} accounts."
            )
        else:
            self.stdout.write("Demo leads already there; nothing new created.")
        for name, key in result.integration_keys.items():
            self.stdout.write(f"API key for integration {name} (shown once): {key}")
        for role, username, password in result.logins:
            self.stdout.write(f"Log in as {role}: {username} / {password}")
        if result.webhook_url:
            self.stdout.write(
                f"Webhook channel “Demo receiver” posts every event to {result.webhook_url} (open it as admin to see "
                "the signed bodies arrive); e-mails to reps print on the server's console."
            )
