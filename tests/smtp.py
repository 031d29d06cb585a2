"""A real SMTP server for the tests: aiosmtpd in a thread of the test process, on
127.0.0.1, keeping what it accepts. Runs on Python 3.8 (the 2.10 suite) and 3.12
(the app's suite).

    catcher = SmtpCatcher()            # a free port; SmtpCatcher(port=...) for a fixed one
    send(...)                          # anything speaking SMTP to catcher.host:catcher.port
    [mail] = catcher.wait_for(1)       # EmailMessage objects, with .mail_from and .rcpt_tos
    catcher.fail_next(2)               # the next two DATA commands answer 451, stored: none
    held = catcher.hold_at_rcpt()      # the next client to send RCPT TO waits there...
    held.reached.wait(...)             # ...(it has, and nothing of it is stored)...
    held.release()                     # ...until released
    catcher.close()
"""

import asyncio
import email
import email.policy
import errno
import logging
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

# The project's patience: an upper bound for what does happen, on a loaded 2-core
# machine (tests/servers.py; not imported from there, which the app's suite can't).
PATIENCE_SECONDS = 120

# aiosmtpd logs every command at INFO: the tests' output would drown in it.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class CaughtMessage(EmailMessage):
    """An accepted message, parsed with ``email.policy.default``, with its envelope."""

    mail_from = None  # MAIL FROM of the envelope
    rcpt_tos = ()  # RCPT TO addresses of the envelope, in order


POLICY = email.policy.default.clone(message_factory=CaughtMessage)


class Hold:
    """Keeps one client at RCPT TO: ``reached`` is set once it got there; it waits
    for its answer until ``release()``."""

    def __init__(self):
        self.reached = threading.Event()
        self._released = threading.Event()

    def release(self):
        self._released.set()


class SmtpCatcher:
    host = "127.0.0.1"

    def __init__(self, port=None):
        self._lock = threading.Condition()
        self._messages = []
        self._failures = []  # SMTP replies to give to the next DATA commands
        self._holds = []  # waiting for the next clients at RCPT TO
        self._taken_holds = []
        self.refused = 0  # DATA commands refused by fail_next
        self._controller = self._start(port)
        self.port = self._controller.port

    def _start(self, port):
        tries = 1 if port else 5
        for attempt in range(tries):
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=port or _free_port(),
                ready_timeout=PATIENCE_SECONDS,
            )
            try:
                controller.start()
                return controller
            except OSError as error:
                # Another process took the free port between the look and the bind.
                controller.stop(no_assert=True)
                if error.errno != errno.EADDRINUSE or attempt == tries - 1:
                    raise

    @property
    def messages(self):
        """What was accepted so far, oldest first (a copy)."""
        with self._lock:
            return list(self._messages)

    def wait_for(self, count, seconds=PATIENCE_SECONDS):
        """The messages, once at least ``count`` are in; AssertionError after
        ``seconds`` without them."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) at the SMTP server within "
                        f"{seconds} s, got {len(self._messages)}: "
                        + repr(
                            [(m["Subject"], list(m.rcpt_tos)) for m in self._messages]
                        )
                    )
                self._lock.wait(left)
            return list(self._messages)

    def fail_next(self, n, code="451 4.3.0 Try again later"):
        """Refuse the next ``n`` DATA commands with ``code``; nothing of them is kept."""
        with self._lock:
            self._failures.extend([code] * n)

    def hold_at_rcpt(self):
        """The next client to send RCPT TO waits there for its answer until the
        returned hold is released."""
        hold = Hold()
        with self._lock:
            self._holds.append(hold)
        return hold

    def clear(self):
        """Forget the messages kept so far (and the count of refusals)."""
        with self._lock:
            self._messages.clear()
            self.refused = 0

    def reset(self):
        """As new: no messages, no refusals to come, every hold released."""
        with self._lock:
            self._messages.clear()
            self._failures.clear()
            self.refused = 0
        self._release_holds()

    def serve(self, settings):
        """Point Django's mail (pytest-django's ``settings``) at this server."""
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = self.host
        settings.EMAIL_PORT = self.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    def close(self):
        self._release_holds()
        self._controller.stop()

    def _release_holds(self):
        with self._lock:
            holds = self._holds + self._taken_holds
            self._holds, self._taken_holds = [], []
        for hold in holds:
            hold.release()

    # Called by the handler on the server's thread.

    def _take_hold(self):
        with self._lock:
            if not self._holds:
                return None
            hold = self._holds.pop(0)
            self._taken_holds.append(hold)
            return hold

    def _take_failure(self):
        with self._lock:
            if self._failures:
                self.refused += 1
                return self._failures.pop(0)
            return None

    def _keep(self, message):
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()


class _Handler:
    def __init__(self, catcher):
        self.catcher = catcher

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        hold = self.catcher._take_hold()
        if hold is not None:
            hold.reached.set()
            # Wait off the event loop, which keeps serving other clients.
            await asyncio.get_event_loop().run_in_executor(None, hold._released.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        failure = self.catcher._take_failure()
        if failure is not None:
            return failure
        # Lines end in LF once off the wire, as a local delivery stores them.
        content = envelope.content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(content, policy=POLICY)
        message.mail_from = envelope.mail_from
        message.rcpt_tos = tuple(envelope.rcpt_tos)
        self.catcher._keep(message)
        return "250 Message accepted for delivery"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
