"""The app's sweeper, until it has a Celery worker of its own: run it every minute
(cron or any scheduler). It makes the calls still owed to Saleor, pays the refunds
whose attempt failed or never ran (or finds them paid), records the refunds a
payment app has settled since, and delivers the outbox's due webhooks."""

import logging

from django.core.management.base import BaseCommand

from ..... import refunds
from .....webhooks import outgoing
from ... import calls, tenancy, transactions
from ...models import SaleorShop


logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Owed Saleor calls, due refunds and due webhooks, made now, per shop."

    def handle(self, *args, **options):
        made, due_refunds, due_webhooks = [], [], []
        for shop in SaleorShop.objects.order_by("pk"):
            # One shop's trouble stops neither the sweep nor the other shops.
            try:
                with tenancy.serving(shop):
                    made += calls.deliver_due(shop)
                    # Granted refunds Saleor shows settled: their rows are due now.
                    transactions.wake_settled(tenancy.current)
                    refunds_due = refunds.due_refunds()
                    for pk in refunds_due:
                        refunds.pay(pk)
                    due_refunds += refunds_due
                    webhooks_due = outgoing.due_deliveries()
                    for pk in webhooks_due:
                        outgoing.deliver(pk)
                    due_webhooks += webhooks_due
            except Exception:
                logger.exception("The sweep of %s failed", shop.api_url)
        self.stdout.write(
            f"{len(made)} owed call(s), {len(due_refunds)} refund(s), "
            f"{len(due_webhooks)} webhook(s) tried."
        )
