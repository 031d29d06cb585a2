"""Handing the plugin's work to Celery, by task name.

The modules that queue work (refunds, the webhook outbox) don't import the task
bodies (``tasks.py``, which imports them): they name the task, and Celery's
registry finds it (``apps.py`` registers the tasks when Django starts). Sending
tries the broker once (``host.send_task``).
"""

from .port import host

PAY_REFUND = "saleor_aftersales.pay_refund"
DELIVER_WEBHOOK = "saleor_aftersales.deliver_webhook"
SEND_CUSTOMER_EMAIL = "saleor_aftersales.send_customer_email"


def schedule_refund(refund_pk: int, countdown: float = 0) -> None:
    host.send_task(PAY_REFUND, (refund_pk,), countdown)


def schedule_delivery(delivery_pk: int, countdown: float = 0) -> None:
    host.send_task(DELIVER_WEBHOOK, (delivery_pk,), countdown)


def schedule_email(email_pk: int, countdown: float = 0) -> None:
    host.send_task(SEND_CUSTOMER_EMAIL, (email_pk,), countdown)
