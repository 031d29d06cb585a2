"""Celery tasks: their bodies, for whichever Celery app the host runs (shared
tasks). The host's Celery app discovers this module and ``apps.py`` registers it
when Django starts; work is queued by name with ``dispatch``."""

import logging

from celery import shared_task
from django.utils import timezone

from . import refunds, rollups, selectors, workflow
from .dispatch import (
    DELIVER_WEBHOOK,
    PAY_REFUND,
    SEND_CUSTOMER_EMAIL,
    schedule_delivery,
    schedule_email,
    schedule_refund,
)
from .emails import outbox as email_outbox
from .port import host
from .models import CustomerEmail, WebhookDelivery
from .configuration import get_settings
from .webhooks import outgoing

logger = logging.getLogger(__name__)


@shared_task(name=DELIVER_WEBHOOK, ignore_result=True)
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


@shared_task(name="saleor_aftersales.deliver_due_webhooks", ignore_result=True)
def deliver_due_webhooks() -> None:
    """Sweeper for beat: picks up pending rows whose task was lost (broker restart)."""
    for pk in outgoing.due_deliveries():
        schedule_delivery(pk)


@shared_task(name="saleor_aftersales.fold_rollups", ignore_result=True)
def fold_rollups() -> None:
    """For beat: the analytics rollups' shards of past days merged, one row per
    key (the page reads fewer rows)."""
    zone = get_settings().business_time_zone
    rollups.fold(rollups.today_in(zone))


@shared_task(name=SEND_CUSTOMER_EMAIL, ignore_result=True)
def send_customer_email(email_pk: int) -> None:
    """Send one shopper e-mail; after an SMTP failure that may pass, the task that
    made the attempt schedules the next one."""
    if email_outbox.send(email_pk) != CustomerEmail.PENDING:
        return
    email = CustomerEmail.objects.get(pk=email_pk)
    wait = (email.next_attempt_at - timezone.now()).total_seconds()
    schedule_email(email_pk, countdown=max(0.0, wait) + 0.1)


@shared_task(name="saleor_aftersales.send_due_customer_emails", ignore_result=True)
def send_due_customer_emails() -> None:
    """Sweeper for beat: pending e-mails whose task was lost, or whose worker died
    mid-send (after its lease ran out), are sent now."""
    for pk in email_outbox.due_emails():
        schedule_email(pk)


@shared_task(name=PAY_REFUND, ignore_result=True)
def pay_refund(refund_pk: int) -> None:
    """Pay one PENDING refund; after a passing gateway error, try again later."""
    wait = refunds.pay(refund_pk)
    if wait is not None:
        schedule_refund(refund_pk, countdown=wait + 0.1)


@shared_task(name="saleor_aftersales.pay_due_refunds", ignore_result=True)
def pay_due_refunds() -> None:
    """Sweeper for beat: PENDING refunds whose task was lost or whose worker died
    (after its lease ran out) are paid, or found already paid, now."""
    for pk in refunds.due_refunds():
        schedule_refund(pk)


@shared_task(name="saleor_aftersales.find_sla_breaches", ignore_result=True)
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
