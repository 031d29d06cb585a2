"""Shopper e-mails reach a real SMTP server (tests/smtp.py) exactly once per step:
through SMTP failures, a mail server that is down, and a Celery worker killed
in the middle of the conversation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from saleor_aftersales import tasks
from saleor_aftersales.emails import outbox
from saleor_aftersales.models import CustomerEmail

from .conftest import create_return, line_input
from .queries import APPROVE
from .servers import free_port, wait_for
from .test_return_slip import pdftotext

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RESEND = """
mutation Resend($id: ID!) {
  aftersalesCustomerEmailResend(id: $id) {
    email { status attempts attemptLog { smtpCode error } }
    errors { field code message }
  }
}
"""

EMAILS = """
query Claim($id: ID!) {
  aftersalesRequest(id: $id) {
    emails { id kind status toEmail attempts lastError
             attemptLog { smtpCode error } }
  }
}
"""


def file_return(customer_api, order, **extra):
    line = order.lines.first()
    payload = create_return(customer_api, order, [line_input(line, 1)], **extra)
    assert payload["errors"] == []
    return payload["aftersalesRequest"]


@transactional
def test_a_claim_is_confirmed_by_one_message_through_smtp(smtp, customer_api, order):
    claim = file_return(customer_api, order)
    [message] = smtp.wait_for(1)
    assert claim["number"] in message["Subject"]
    assert message["To"] == order.user_email
    assert list(message.rcpt_tos) == [order.user_email]
    row = CustomerEmail.objects.get()
    assert (row.status, row.attempts, row.kind) == ("sent", 1, "received")
    assert message["Message-ID"].strip() == row.message_id
    # The plain text and the HTML are both there.
    kinds = {part.get_content_type() for part in message.walk()}
    assert {"text/plain", "text/html"} <= kinds


@transactional
def test_an_smtp_refusal_is_tried_again_and_sends_once(
    smtp, settings, customer_api, order
):
    settings.AFTERSALES_EMAIL_BACKOFF_SECONDS = 0  # the next try is due at once
    smtp.fail_next(1)
    claim = file_return(customer_api, order)
    [message] = smtp.wait_for(1)
    assert claim["number"] in message["Subject"]
    row = CustomerEmail.objects.get()
    assert (row.status, row.attempts) == ("sent", 2)
    log = list(row.attempt_log.values_list("smtp_code", "error"))
    assert log[0][0] == 451 and "Try again later" in log[0][1]
    assert log[1] == (None, "")
    assert len(smtp.messages) == 1


@transactional
def test_a_permanent_refusal_fails_at_once_and_staff_send_it_again(
    smtp, customer_api, staff_api, order
):
    smtp.fail_next(1, code="550 5.1.1 Mailbox unavailable")
    claim = file_return(customer_api, order)
    row = CustomerEmail.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("550")
    assert smtp.messages == []
    # Staff see it on the claim, with its attempt log.
    [shown] = staff_api.data(EMAILS, {"id": claim["id"]})["aftersalesRequest"]["emails"]
    assert (shown["status"], shown["attemptLog"][0]["smtpCode"]) == ("failed", 550)
    # The shopper sees no e-mail log.
    seen = customer_api.data(EMAILS, {"id": claim["id"]})["aftersalesRequest"]
    assert seen["emails"] is None
    resent = staff_api.data(RESEND, {"id": shown["id"]})[
        "aftersalesCustomerEmailResend"
    ]
    assert resent["errors"] == []
    # Queued again with a fresh set of attempts; sent once the answer committed.
    assert (resent["email"]["status"], resent["email"]["attempts"]) == ("pending", 0)
    assert len(smtp.wait_for(1)) == 1
    assert wait_for(lambda: CustomerEmail.objects.filter(status="sent").exists())
    # A message that went out isn't sent again.
    again = staff_api.data(RESEND, {"id": shown["id"]})["aftersalesCustomerEmailResend"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATUS"]
    assert len(smtp.messages) == 1


@transactional
def test_a_mail_server_that_is_down_never_holds_up_the_step(
    smtp, settings, customer_api, staff_api, order
):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    claim = file_return(customer_api, order)
    approved = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert approved["errors"] == []
    assert approved["aftersalesRequest"]["status"] == "APPROVED"
    rows = list(CustomerEmail.objects.order_by("pk"))
    assert [(r.kind, r.status) for r in rows] == [
        ("received", "pending"),
        ("approved", "pending"),
    ]
    assert all("Connection refused" in r.last_error for r in rows)
    # Once the server is back, the sweeper sends each once.
    settings.EMAIL_PORT = smtp.port
    CustomerEmail.objects.update(next_attempt_at=timezone.now())
    tasks.send_due_customer_emails()
    messages = smtp.wait_for(2)
    assert sorted(m["Subject"].split(":")[0] for m in messages) == [claim["number"]] * 2
    assert set(CustomerEmail.objects.values_list("status", flat=True)) == {"sent"}


@transactional
def test_a_step_retried_with_its_key_writes_no_second_message(
    smtp, customer_api, order
):
    first = file_return(customer_api, order, idempotencyKey="checkout-42")
    again = file_return(customer_api, order, idempotencyKey="checkout-42")
    assert first["id"] == again["id"]
    smtp.wait_for(1)
    assert CustomerEmail.objects.count() == 1
    assert len(smtp.messages) == 1


@transactional
def test_a_worker_killed_mid_send_leaves_one_message_to_the_sweeper(
    worker, smtp, customer_api, order
):
    hold = smtp.hold_at_rcpt()
    claim = file_return(customer_api, order)
    assert hold.reached.wait(60), "the worker never reached the mail server"
    worker.kill()  # in the middle of the SMTP conversation, before DATA
    hold.release()
    row = CustomerEmail.objects.get()
    assert (row.status, row.attempts) == ("pending", 0)
    assert smtp.messages == []
    # Its lease runs out (moved on rather than waited for); the sweeper finds it.
    CustomerEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    worker.start()
    tasks.send_due_customer_emails()
    [message] = smtp.wait_for(1)
    assert claim["number"] in message["Subject"]
    assert wait_for(
        lambda: CustomerEmail.objects.filter(pk=row.pk, status="sent").exists()
    )
    row.refresh_from_db()
    assert row.attempts == 1
    assert message["Message-ID"].strip() == row.message_id
    # Nothing is left for a later sweep to send.
    assert outbox.due_emails() == []
    assert len(smtp.messages) == 1


@transactional
def test_the_approval_carries_the_return_slip_in_the_customers_language(
    smtp, customer_api, staff_api, order
):
    claim = file_return(customer_api, order, language="zh-Hans")
    approved = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert approved["errors"] == []
    messages = smtp.wait_for(2)
    row = CustomerEmail.objects.get(kind="approved")
    [approval] = [m for m in messages if m["Message-ID"].strip() == row.message_id]
    assert approval["Content-Language"] == "zh-hans"
    [slip] = [part for part in approval.iter_attachments()]
    assert slip.get_content_type() == "application/pdf"
    assert slip.get_filename() == f"{claim['number']}.pdf"
    text = pdftotext(slip.get_content())
    assert claim["number"] in text and "退货单" in text
    assert order.lines.first().product_name in text
    body = approval.get_body(("plain",)).get_content()
    assert claim["number"] in body and "退货单" in body
