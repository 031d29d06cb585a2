"""Celery tasks; Saleor's Celery app discovers this module."""

import logging

from django.conf import settings
from django.utils import timezone

from . import host, refunds, selectors, workflow
from .models import WebhookDelivery
from .plugin import get_settings
from .webhooks import outgoing

logger = logging.getLogger(__name__)


def queue_options() -> dict:
    """The queue the plugin's tasks go to (AFTERSALES_CELERY_QUEUE), if one is set;
    named on every send so that retries sent from a worker land there too."""
    queue = getattr(settings, "AFTERSALES_CELERY_QUEUE", None)
    return {"queue": queue} if queue else {}


# One quick try at the broker. Kombu's default is to retry a connection for ever,
# which would hold the request that queued the task for as long as Redis is down;
# the row is committed anyway and beat's sweepers send it once Redis is back.
BROKER_TRIES = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
BROKER_TIMEOUT = 3  # seconds, for a broker that neither answers nor refuses


def _send(task, args: tuple, countdown: float) -> None:
    """Queue ``task``; raises kombu's OperationalError at once if the broker is
    down (callers log it and leave the work to the sweepers)."""
    if host.celery_app.conf.task_always_eager:
        task.apply_async(args, countdown=countdown, **queue_options())
        return
    with host.celery_app.connection_for_write() as connection:
        connection.ensure_connection(**BROKER_TRIES, timeout=BROKER_TIMEOUT)
        task.apply_async(
            args,
            countdown=countdown,
            connection=connection,
            retry_policy=BROKER_TRIES,
            **queue_options(),
        )


def schedule_delivery(delivery_pk: int, countdown: float = 0) -> None:
    _send(deliver_webhook, (delivery_pk,), countdown)


@host.celery_app.task(name="saleor_aftersales.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_pk: int) -> None:
    """Post one outbox row; a failure schedules the next try after its backoff.

    Only the task that made the attempt schedules the next one.
    """
    if outgoing.deliver(delivery_pk) != WebhookDelivery.PENDING:
        return
    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    # A little late rather than early: an early run finds the row not yet due.
    schedule_delivery(delivery_pk, countdown=max(0.0, wait) + 0.1)


@host.celery_app.task(name="saleor_aftersales.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> None:
    """Sweeper for beat: picks up pending rows whose task was lost (broker restart)."""
    for pk in outgoing.due_deliveries():
        schedule_delivery(pk)


def schedule_refund(refund_pk: int, countdown: float = 0) -> None:
    _send(pay_refund, (refund_pk,), countdown)


@host.celery_app.task(name="saleor_aftersales.pay_refund", ignore_result=True)
def pay_refund(refund_pk: int) -> None:
    """Pay one PENDING refund; after a passing gateway error, try again later."""
    wait = refunds.pay(refund_pk)
    if wait is not None:
        schedule_refund(refund_pk, countdown=wait + 0.1)


@host.celery_app.task(name="saleor_aftersales.pay_due_refunds", ignore_result=True)
def pay_due_refunds() -> None:
    """Sweeper for beat: PENDING refunds whose task was lost or whose worker died
    (after its lease ran out) are paid, or found already paid, now."""
    for pk in refunds.due_refunds():
        schedule_refund(pk)


@host.celery_app.task(name="saleor_aftersales.find_sla_breaches", ignore_result=True)
def find_sla_breaches() -> int:
    """For beat: record each missed first answer or resolution once, send
    aftersales.request.sla_breached and escalate. Returns how many were found."""
    settings = get_settings()
    escalate_to = host.staff_user_by_email(settings.escalation_staff_email)
    found = 0
    for request, target in selectors.sla_breaches(timezone.now()):
        try:
            if workflow.record_sla_breach(
                request, target=target, escalate_to=escalate_to
            ):
                found += 1
        except Exception:  # noqa: BLE001 - one bad claim must not block the rest
            logger.exception("Could not record the SLA breach of claim %s", request.pk)
    return found
