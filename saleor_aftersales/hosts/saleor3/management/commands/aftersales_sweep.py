"""The app's sweeper, until it has a Celery worker of its own: run it every minute
(cron or any scheduler). It makes the calls still owed to Saleor, pays the refunds
whose attempt failed or never ran (or finds them paid), records the refunds a
payment app has settled since, delivers the outbox's due webhooks, sends the
due shopper e-mails and folds the analytics rollups' past shards."""

import logging

from django.core.management.base import BaseCommand

from ..... import refunds, rollups
from .....configuration import get_settings
from .....emails import outbox as email_outbox
from .....webhooks import outgoing
from ... import calls, tenancy, transactions
from ...models import SaleorShop


logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Owed Saleor calls, due refunds, webhooks and e-mails, made now, per shop."

    def handle(self, *args, **options):
        made, due_refunds, due_webhooks, due_emails = [], [], [], []
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
                    emails_due = email_outbox.due_emails()
                    for pk in emails_due:
                        email_outbox.send(pk)
                    due_emails += emails_due
                    # The analytics rollups' shards of past days, folded.
                    zone = get_settings().business_time_zone
                    rollups.fold(rollups.today_in(zone))
            except Exception:
                logger.exception("The sweep of %s failed", shop.api_url)
        self.stdout.write(
            f"{len(made)} owed call(s), {len(due_refunds)} refund(s), "
            f"{len(due_webhooks)} webhook(s), {len(due_emails)} e-mail(s) tried."
        )
