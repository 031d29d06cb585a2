"""The shopper e-mail outbox: written with the step, sent after commit.

Exactly once per event: the row's ``key`` is unique, so a step writes its message
once however often it is retried; one worker at a time holds a row (a lease, as
for webhooks), and a row is marked sent in the transaction after the SMTP server
accepted it. A worker killed before the server accepted the message leaves the
row to the sweeper once its lease runs out; every attempt sends the same
Message-ID, so the one window SMTP can't close (killed between the server's
"250 OK" and the commit) shows the customer's mail program a duplicate it can
recognise. SMTP failures never touch the step: they are written on the row and
tried again later (4xx, no answer), or given up at once (5xx: the address or
the message is refused for good).
"""

import logging
import smtplib
import time
from datetime import timedelta
from email.utils import make_msgid
from typing import List, Optional

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from .. import dispatch
from ..configuration import get_settings
from ..models import CustomerEmail, CustomerEmailAttempt
from ..port import host
from . import content, kinds

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
LEASE_SECONDS = 90  # longer than one SMTP conversation may take


def max_attempts() -> int:
    return getattr(settings, "AFTERSALES_EMAIL_MAX_ATTEMPTS", 8)


def backoff_seconds(attempts: int) -> float:
    base = getattr(settings, "AFTERSALES_EMAIL_BACKOFF_SECONDS", 60)
    return base * 2 ** (attempts - 1)


def for_step(request, event) -> Optional[CustomerEmail]:
    """Write the message a claim's step sends its customer (inside the step's
    transaction; one INSERT). Whether the desk switched the kind off and which
    language the shop defaults to are settled when it is sent."""
    kind = kinds.for_event(event)
    if kind is None or not request.user_email:
        return None
    return _enqueue(
        CustomerEmail(
            key=f"event:{event.pk}",
            kind=kind,
            request=request,
            event=event,
            to_email=request.user_email,
            language=request.language,
        )
    )


def for_order_link(link, to_email: str, language: str) -> CustomerEmail:
    """Write the message carrying a guest's sign-in link."""
    return _enqueue(
        CustomerEmail(
            key=f"link:{link.nonce}",
            kind=kinds.ORDER_LINK,
            to_email=to_email,
            language=language,
        )
    )


def _enqueue(email: CustomerEmail) -> CustomerEmail:
    email.save(force_insert=True)
    pk = email.pk
    transaction.on_commit(lambda: _schedule(pk))
    return email


def _schedule(pk: int, countdown: float = 0) -> None:
    try:
        dispatch.schedule_email(pk, countdown)
    except Exception:  # noqa: BLE001 - the step committed; the sweeper sends it
        logger.exception("Could not queue customer e-mail %s", pk)


def _claim(pk: int) -> Optional[CustomerEmail]:
    """Take the next attempt of a due message, or None if it isn't due or another
    worker holds it."""
    with transaction.atomic():
        email = (
            CustomerEmail.objects.select_for_update(skip_locked=True)
            .filter(
                pk=pk,
                status=CustomerEmail.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if email is None:
            return None
        email.next_attempt_at = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        fields = ["next_attempt_at"]
        if not email.message_id:
            domain = host.shop_domain().split(":")[0] or "localhost"
            email.message_id = make_msgid(f"aftersales.{email.pk}", domain=domain)
            fields.append("message_id")
        email.save(update_fields=fields)
        return email


def send(pk: int) -> Optional[str]:
    """Make one attempt at a message; its status afterwards, or None if this call
    made no attempt. The SMTP conversation happens outside any transaction."""
    email = _claim(pk)
    if email is None:
        return None
    settings = get_settings()
    if email.kind != kinds.ORDER_LINK and email.kind in settings.shopper_emails_off:
        return _finish(email, None, "", True, skipped=True)
    started = time.monotonic()
    code, error, final = None, "", False
    try:
        message = content.message(email, settings)
    except Exception as exc:  # noqa: BLE001 - a broken template is the shop's to fix
        logger.exception("Could not render customer e-mail %s", pk)
        return _finish(email, None, f"Not rendered: {exc}", True, started)
    try:
        with get_connection(timeout=SMTP_TIMEOUT_SECONDS) as connection:
            connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [reply[0] for reply in exc.recipients.values()]
        code = codes[0] if codes else None
        error, final = f"Recipient refused: {exc.recipients}", _permanent(code)
    except smtplib.SMTPResponseException as exc:
        code = exc.smtp_code
        reply = exc.smtp_error
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        error, final = f"{code} {reply}", _permanent(code)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    return _finish(email, code, error, final, started, subject=message.subject)


def _permanent(code: Optional[int]) -> bool:
    return code is not None and 500 <= code < 600


def _finish(email, code, error, final, started=None, subject="", skipped=False):
    elapsed = int((time.monotonic() - started) * 1000) if started else 0
    with transaction.atomic():
        email = CustomerEmail.objects.select_for_update().get(pk=email.pk)
        CustomerEmailAttempt.objects.create(
            email=email, smtp_code=code, error=error, duration_ms=elapsed
        )
        email.attempts += 1
        email.last_error = error
        if subject:
            email.subject = subject[:998]
        if skipped:
            email.status = CustomerEmail.SKIPPED
        elif not error:
            email.status = CustomerEmail.SENT
            email.sent_at = timezone.now()
        elif final or email.attempts >= max_attempts():
            email.status = CustomerEmail.FAILED
        else:
            email.next_attempt_at = timezone.now() + timedelta(
                seconds=backoff_seconds(email.attempts)
            )
        email.save()
        return email.status


def resend(email: CustomerEmail) -> CustomerEmail:
    """Give a failed message a fresh set of attempts (staff, after fixing the
    address or the server)."""
    with transaction.atomic():
        email = CustomerEmail.objects.select_for_update().get(pk=email.pk)
        if email.status == CustomerEmail.FAILED:
            email.status = CustomerEmail.PENDING
            email.attempts = 0
            email.next_attempt_at = timezone.now()
            email.save(update_fields=["status", "attempts", "next_attempt_at"])
            pk = email.pk
            transaction.on_commit(lambda: _schedule(pk))
    return email


def due_emails(limit: int = 500) -> List[int]:
    """Pending messages whose time has come (the sweeper's work list): lost
    tasks, retries, and rows whose worker died before its lease ran out."""
    return list(
        CustomerEmail.objects.filter(
            status=CustomerEmail.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
