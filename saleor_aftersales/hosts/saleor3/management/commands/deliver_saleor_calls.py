"""The sweeper for calls the app still owes Saleor (their attempt failed or never
ran): run it every minute (cron or a scheduler)."""

from django.core.management.base import BaseCommand

from ... import calls


class Command(BaseCommand):
    help = "Make the calls still owed to Saleor (timeline notes, returns)."

    def handle(self, *args, **options):
        made = calls.deliver_due()
        self.stdout.write(f"{len(made)} owed call(s) tried.")
