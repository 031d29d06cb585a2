"""The demo's mailbox: an SMTP server that keeps every message it is sent as an
.eml file, and pages to read them.

    python -m demo.mailbox --smtp-port 1025 --http-port 8025 --dir .demo/mail

http://127.0.0.1:8025/ lists the messages, newest first (``?to=<address>`` for
one recipient's); a message's page shows its headers, its plain text, its HTML
part in a sandboxed frame (served at its own URL under a sandboxing
Content-Security-Policy: no scripts, no requests out) and links to download its
attachments. Everything in a message is the sender's: it is escaped, never
trusted. Listens on 127.0.0.1 only. Runs on Python 3.8 and 3.12 (both demos).
"""

import argparse
import email
import email.policy
import html
import re
import signal
import sys
import threading
import time
import uuid
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
HTML_PART_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'"
# Attachments of these types are served as such (a browser shows them in its own
# viewer); anything else as bytes to save.
SHOWN_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif"}
MESSAGE_ID = re.compile(r"^[0-9]{20}-[0-9a-f]{32}$")


class Store:
    """The directory: one ``<receipt time in ns>-<uuid>.eml`` per message, the
    envelope in ``X-Mailbox-*`` headers on top."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def keep(self, mail_from: str, rcpt_tos, content: bytes) -> str:
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        envelope = (
            f"X-Mailbox-From: {mail_from}\n" f"X-Mailbox-To: {', '.join(rcpt_tos)}\n"
        ).encode("utf-8", "replace")
        body = content.replace(b"\r\n", b"\n")
        partial = self.directory / f".{name}.part"
        partial.write_bytes(envelope + body)
        partial.rename(self.directory / f"{name}.eml")  # whole, or not listed
        return name

    def names(self):
        """Newest first."""
        found = [
            path.stem
            for path in self.directory.glob("*.eml")
            if MESSAGE_ID.match(path.stem)
        ]
        return sorted(found, reverse=True)

    def read(self, name: str):
        if not MESSAGE_ID.match(name):
            return None
        path = self.directory / f"{name}.eml"
        try:
            return email.message_from_bytes(
                path.read_bytes(), policy=email.policy.default
            )
        except FileNotFoundError:
            return None


class SmtpHandler:
    def __init__(self, store: Store):
        self.store = store

    async def handle_DATA(self, server, session, envelope):
        self.store.keep(envelope.mail_from, envelope.rcpt_tos, envelope.content)
        return "250 Message accepted for delivery"


# Reading a message: every header and part may be malformed.


def header(message, name: str) -> str:
    try:
        value = message.get(name)
        return "" if value is None else str(value)
    except Exception:
        return "(unreadable)"


def recipients(message):
    addresses = set()
    for name in ("X-Mailbox-To", "To", "Cc"):
        try:
            values = message.get_all(name) or []
            for _, address in getaddresses([str(v) for v in values]):
                if address:
                    addresses.add(address.lower())
        except Exception:
            pass
    return addresses


def body(message, subtype: str):
    try:
        part = message.get_body(preferencelist=(subtype,))
    except Exception:
        return None, None
    if part is None:
        return None, None
    try:
        return part, part.get_content()
    except Exception:
        payload = part.get_payload(decode=True) or b""
        return part, payload.decode("utf-8", "replace")


def attachments(message):
    """(number, part) of each leaf part that is neither the text nor the HTML
    body; the number is its place in ``message.walk()``, its URL."""
    text_part, _ = body(message, "plain")
    html_part, _ = body(message, "html")
    found = []
    for number, part in enumerate(message.walk()):
        if part.is_multipart() or part is text_part or part is html_part:
            continue
        found.append((number, part))
    return found


def filename(part, number: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return name or f"part-{number}"


# The pages.

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd;
         vertical-align: top; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 1rem; }
iframe { width: 100%; height: 32rem; border: 1px solid #ccc; }
.muted { color: #777; }
"""


def page(title: str, content: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{content}</body></html>"
    ).encode("utf-8")


def e(value) -> str:
    return html.escape(str(value), quote=True)


def list_page(store: Store, to: str) -> bytes:
    rows = []
    for name in store.names():
        message = store.read(name)
        if message is None:
            continue
        if to and to.lower() not in recipients(message):
            continue
        subject = header(message, "Subject") or "(no subject)"
        rows.append(
            "<tr>"
            f"<td class=muted>{e(header(message, 'Date'))}</td>"
            f"<td>{e(header(message, 'From'))}</td>"
            f"<td>{e(header(message, 'To'))}</td>"
            f'<td><a href="/message/{e(name)}">{e(subject)}</a></td>'
            "</tr>"
        )
    heading = f"Mail to {e(to)}" if to else "All mail"
    others = ' <a href="/">(everyone\'s)</a>' if to else ""
    table = (
        "<table><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else "<p class=muted>No messages yet.</p>"
    )
    return page(
        "Mailbox",
        f"<h1>{heading}{others}</h1>"
        f"<p class=muted>{len(rows)} message(s), newest first.</p>{table}",
    )


def message_page(name: str, message) -> bytes:
    fields = "".join(
        f"<tr><th>{label}</th><td>{e(header(message, key))}</td></tr>"
        for label, key in (
            ("Subject", "Subject"),
            ("From", "From"),
            ("To", "To"),
            ("Cc", "Cc"),
            ("Date", "Date"),
            ("Envelope to", "X-Mailbox-To"),
        )
        if header(message, key)
    )
    _, text = body(message, "plain")
    html_part, _ = body(message, "html")
    parts = [f'<p><a href="/">&larr; All mail</a></p><table>{fields}</table>']
    if text is not None:
        parts.append(f"<h2>Plain text</h2><pre>{e(text)}</pre>")
    if html_part is not None:
        parts.append(
            "<h2>HTML</h2>"
            f'<iframe sandbox src="/message/{e(name)}/html" '
            'title="The HTML part"></iframe>'
        )
    found = attachments(message)
    if found:
        items = "".join(
            f'<li><a href="/message/{e(name)}/part/{number}" download>'
            f"{e(filename(part, number))}</a> "
            f"<span class=muted>{e(part.get_content_type())}, "
            f"{len(part.get_payload(decode=True) or b'')} bytes</span></li>"
            for number, part in found
        )
        parts.append(f"<h2>Attachments</h2><ul>{items}</ul>")
    return page(header(message, "Subject") or "Message", "".join(parts))


def content_disposition(name: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def make_handler(store: Store):
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-mailbox"

        def do_GET(self):
            url = urlsplit(self.path)
            segments = [s for s in url.path.split("/") if s]
            if not segments:
                to = (parse_qs(url.query).get("to") or [""])[0].strip()
                return self.answer(200, list_page(store, to))
            if segments[0] != "message" or len(segments) < 2:
                return self.not_found()
            message = store.read(segments[1])
            if message is None:
                return self.not_found()
            if len(segments) == 2:
                return self.answer(200, message_page(segments[1], message))
            if segments[2:] == ["html"]:
                part, content = body(message, "html")
                if part is None:
                    return self.not_found()
                return self.answer(200, content.encode("utf-8"), csp=HTML_PART_CSP)
            if len(segments) == 4 and segments[2] == "part" and segments[3].isdigit():
                wanted = int(segments[3])
                for number, part in attachments(message):
                    if number == wanted:
                        return self.attachment(part, number)
            return self.not_found()

        def attachment(self, part, number):
            data = part.get_payload(decode=True) or b""
            kind = part.get_content_type()
            self.answer(
                200,
                data,
                content_type=kind
                if kind in SHOWN_TYPES
                else "application/octet-stream",
                csp="sandbox; default-src 'none'",
                extra={
                    "Content-Disposition": content_disposition(filename(part, number))
                },
            )

        def not_found(self):
            self.answer(404, page("Not found", "<p>No such message or part.</p>"))

        def answer(
            self,
            status,
            payload,
            content_type="text/html; charset=utf-8",
            csp=PAGE_CSP,
            extra=None,
        ):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler


def url(http_port: int, to: str = "") -> str:
    query = f"?{urlencode({'to': to})}" if to else ""
    return f"http://{HOST}:{http_port}/{query}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.mailbox", description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path(".demo") / "mail")
    args = parser.parse_args(argv)

    store = Store(args.dir)
    pages = ThreadingHTTPServer((HOST, args.http_port), make_handler(store))
    pages.daemon_threads = True
    smtp = Controller(
        SmtpHandler(store), hostname=HOST, port=args.smtp_port, ready_timeout=120
    )
    smtp.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"mailbox: SMTP on {HOST}:{args.smtp_port}, messages at "
        f"{url(args.http_port)} (kept in {args.dir})",
        flush=True,
    )
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    try:
        thread.join()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        pages.shutdown()
        smtp.stop()


if __name__ == "__main__":
    main()
