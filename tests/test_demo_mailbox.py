"""The demos' mailbox (demo/mailbox.py) as the demos run it: its own process, real
SMTP in, real HTTP out."""

import re
import smtplib
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest

from .servers import PATIENCE_SECONDS, REPO, free_port, wait_for

PDF = b"%PDF-1.4\n% a return slip, as far as this test cares\n%%EOF\n"
HTML = '<h1>Return R-1042</h1><p style="color: red">Print the slip.</p>'


@pytest.fixture
def mailbox(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo.mailbox",
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
            "--dir",
            str(tmp_path / "mail"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{http_port}"

    def up():
        assert process.poll() is None, process.stdout.read().decode()
        try:
            return get(base + "/").status == 200
        except OSError:
            return False

    try:
        assert wait_for(up), "the mailbox did not start"
        yield base, smtp_port, tmp_path / "mail"
    finally:
        process.terminate()
        process.wait(timeout=PATIENCE_SECONDS)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=PATIENCE_SECONDS) as answer:
            return Response(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def send(smtp_port, subject, to="customer@example.com", html=None, pdf=None):
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "Shop <shop@example.com>"
    message["To"] = to
    message.set_content("Hello,\nyour return R-1042 is approved.\n")
    if html is not None:
        message.add_alternative(html, subtype="html")
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename="return-slip.pdf"
        )
    with smtplib.SMTP("127.0.0.1", smtp_port, timeout=PATIENCE_SECONDS) as client:
        client.send_message(message)


def message_links(page):
    return re.findall(r'href="(/message/[^"/]+)"', page)


def test_a_message_with_html_and_a_pdf_is_listed_shown_and_downloadable(mailbox):
    base, smtp_port, directory = mailbox
    send(
        smtp_port,
        "Your return <script>alert(1)</script> is approved",
        html=HTML,
        pdf=PDF,
    )
    # Kept before the server said 250, which send_message waited for.
    assert len(list(directory.glob("*.eml"))) == 1

    listing = get(base + "/")
    assert listing.status == 200
    assert "Your return &lt;script&gt;alert(1)&lt;/script&gt; is approved" in (
        listing.text
    )
    assert "<script>" not in listing.text
    [link] = message_links(listing.text)

    shown = get(base + link)
    assert shown.status == 200
    assert "<script>" not in shown.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown.text
    assert "Shop &lt;shop@example.com&gt;" in shown.text
    assert "customer@example.com" in shown.text
    assert "your return R-1042 is approved." in shown.text
    [frame] = re.findall(r"<iframe[^>]*>", shown.text)
    assert re.search(r"\ssandbox[\s=>]", frame)
    assert "allow-scripts" not in frame
    [html_url] = re.findall(r'src="([^"]+)"', frame)
    [pdf_url] = re.findall(r'href="([^"]+/part/\d+)"', shown.text)
    assert "return-slip.pdf" in shown.text

    html_part = get(base + html_url)
    assert html_part.status == 200
    assert html_part.headers["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    )
    assert html_part.headers["Content-Type"] == "text/html; charset=utf-8"
    assert html_part.text.strip() == HTML

    slip = get(base + pdf_url)
    assert slip.status == 200
    assert slip.body == PDF
    assert slip.headers["Content-Type"] == "application/pdf"
    assert slip.headers["Content-Disposition"].startswith(
        'attachment; filename="return-slip.pdf"'
    )


def test_the_list_is_newest_first_and_filters_by_recipient(mailbox):
    base, smtp_port, _ = mailbox
    send(smtp_port, "First to the customer")
    send(smtp_port, "To someone else", to="other@example.com")
    send(smtp_port, "Second to the customer")

    everyone = get(base + "/").text
    subjects = ("Second to the customer", "To someone else", "First to the customer")
    places = [everyone.index(subject) for subject in subjects]
    assert places == sorted(places)

    customer = get(base + "/?to=Customer@example.com").text
    assert "Second to the customer" in customer
    assert "First to the customer" in customer
    assert "To someone else" not in customer
    assert customer.index("Second to the customer") < customer.index(
        "First to the customer"
    )


def test_unknown_messages_and_paths_are_not_found(mailbox):
    base, smtp_port, _ = mailbox
    send(smtp_port, "Only this")
    [link] = message_links(get(base + "/").text)
    assert get(base + "/message/../../etc/passwd").status == 404
    assert get(base + "/message/" + "0" * 20 + "-" + "a" * 32).status == 404
    assert get(base + link + "/html").status == 404  # no HTML part
    assert get(base + link + "/part/0").status == 404  # the text body, not a file
    assert get(base + "/elsewhere").status == 404
