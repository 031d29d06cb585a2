"""The tests' SMTP server (tests/smtp.py), through Django's SMTP e-mail backend."""

import smtplib
import threading

import pytest
from django.core.mail import EmailMultiAlternatives, send_mail

from .servers import PATIENCE_SECONDS


def test_a_sent_message_arrives_parsed_with_its_envelope(smtp):
    send_mail(
        "Your return R-1042 is approved",
        "Hello Jana,\nprint the slip and send the boots back.\n",
        "Shop <shop@example.com>",
        ["jana@example.com", "desk@example.com"],
    )

    [mail] = smtp.wait_for(1)

    assert mail["Subject"] == "Your return R-1042 is approved"
    assert mail["From"] == "Shop <shop@example.com>"
    assert mail["From"].addresses[0].addr_spec == "shop@example.com"
    assert mail.get_content_type() == "text/plain"
    assert (
        mail.get_content() == "Hello Jana,\nprint the slip and send the boots back.\n"
    )
    assert mail.mail_from == "shop@example.com"
    assert mail.rcpt_tos == ("jana@example.com", "desk@example.com")
    assert smtp.messages == [mail]


def test_html_alternatives_and_attachments_are_parts_of_the_message(smtp):
    message = EmailMultiAlternatives(
        "Return slip", "See the slip.", "shop@example.com", ["jana@example.com"]
    )
    message.attach_alternative("<p>See the <b>slip</b>.</p>", "text/html")
    message.attach("slip.pdf", b"%PDF-1.4 not really", "application/pdf")
    message.send()

    [mail] = smtp.wait_for(1)

    assert mail.get_body(("html",)).get_content() == "<p>See the <b>slip</b>.</p>"
    [slip] = mail.iter_attachments()
    assert slip.get_filename() == "slip.pdf"
    assert slip.get_content() == b"%PDF-1.4 not really"


def test_refused_data_is_not_kept_and_the_retry_is(smtp):
    smtp.fail_next(1)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send_mail("Attempt", "Body", "shop@example.com", ["jana@example.com"])
    assert refused.value.smtp_code == 451
    assert b"Try again later" in refused.value.smtp_error
    assert smtp.messages == []
    assert smtp.refused == 1

    send_mail("Attempt", "Body", "shop@example.com", ["jana@example.com"])

    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Attempt"]
    assert len(smtp.messages) == 1


def test_refusals_take_the_given_reply_and_count_down(smtp):
    smtp.fail_next(2, code="554 5.7.1 Not today")
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send_mail("Attempt", "Body", "shop@example.com", ["jana@example.com"])
        assert refused.value.smtp_code == 554
    send_mail("Third", "Body", "shop@example.com", ["jana@example.com"])
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Third"]
    assert smtp.refused == 2


def test_a_held_sender_waits_at_rcpt_until_released(smtp):
    held = smtp.hold_at_rcpt()
    outcome = []

    def sender():
        try:
            sent = send_mail("Held", "Body", "shop@example.com", ["jana@example.com"])
            outcome.append(sent)
        except Exception as error:  # the test fails below with what happened
            outcome.append(error)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    assert held.reached.wait(PATIENCE_SECONDS), "the sender never reached RCPT TO"

    # The server hasn't answered RCPT TO: the sender can't have got past it.
    assert thread.is_alive()
    assert outcome == []
    assert smtp.messages == []

    held.release()
    thread.join(PATIENCE_SECONDS)
    assert not thread.is_alive()
    assert outcome == [1]
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Held"]


def test_a_hold_keeps_one_client_while_others_get_through(smtp):
    held = smtp.hold_at_rcpt()
    thread = threading.Thread(
        target=send_mail,
        args=("First", "Body", "shop@example.com", ["jana@example.com"]),
        daemon=True,
    )
    thread.start()
    assert held.reached.wait(PATIENCE_SECONDS)

    send_mail("Second", "Body", "shop@example.com", ["jana@example.com"])
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["Second"]

    held.release()
    thread.join(PATIENCE_SECONDS)
    assert sorted(m["Subject"] for m in smtp.wait_for(2)) == ["First", "Second"]


def test_waiting_for_more_than_arrives_fails_clearly(smtp):
    send_mail("Only one", "Body", "shop@example.com", ["jana@example.com"])
    smtp.wait_for(1)

    with pytest.raises(AssertionError, match=r"expected 2 message\(s\).*got 1"):
        smtp.wait_for(2, seconds=0.5)


def test_clear_forgets_what_was_kept(smtp):
    send_mail("Before", "Body", "shop@example.com", ["jana@example.com"])
    smtp.wait_for(1)
    smtp.clear()
    assert smtp.messages == []
    send_mail("After", "Body", "shop@example.com", ["jana@example.com"])
    assert [m["Subject"] for m in smtp.wait_for(1)] == ["After"]
