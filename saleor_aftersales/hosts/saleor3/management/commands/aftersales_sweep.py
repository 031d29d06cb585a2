"""The app's sweeper, until it has a Celery worker of its own: run it every minute
(cron or any scheduler). It makes the calls still owed to Saleor, pays the refunds
whose attempt failed or never ran (or finds them paid), records the refunds a
payment app has settled since, and delivers the outbox's due webhooks."""

from django.core.management.base import BaseCommand

from ..... import refunds
from .....webhooks import outgoing
from ... import calls, transactions
from ...shop import current_shop


class Command(BaseCommand):
    help = "Owed Saleor calls, due refunds and due webhooks, made now."

    def handle(self, *args, **options):
        made = calls.deliver_due()
        # Granted refunds Saleor shows settled: their rows are due now.
        transactions.wake_settled(current_shop)
        due_refunds = refunds.due_refunds()
        for pk in due_refunds:
            refunds.pay(pk)
        due_webhooks = outgoing.due_deliveries()
        for pk in due_webhooks:
            outgoing.deliver(pk)
        self.stdout.write(
            f"{len(made)} owed call(s), {len(due_refunds)} refund(s), "
            f"{len(due_webhooks)} webhook(s) tried."
        )
