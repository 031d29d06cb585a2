"""Celery tasks; Saleor's Celery app discovers this module."""

from django.utils import timezone

from . import host
from .models import WebhookDelivery
from .webhooks import outgoing


@host.celery_app.task(name="saleor_aftersales.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_pk: int) -> None:
    """Post one outbox row; a failure schedules the next try after its backoff."""
    if outgoing.deliver(delivery_pk) != WebhookDelivery.PENDING:
        return
    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    deliver_webhook.apply_async((delivery_pk,), countdown=max(0.0, wait))


@host.celery_app.task(name="saleor_aftersales.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> None:
    """Sweeper for beat: picks up pending rows whose task was lost (broker restart)."""
    for pk in outgoing.due_deliveries():
        deliver_webhook.delay(pk)
