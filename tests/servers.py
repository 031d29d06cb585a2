"""The real peers the tests talk to: a Celery worker process, localstripe, a proxy
that can break the line to Stripe, and an HTTP receiver for webhooks."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
LOCALSTRIPE = REPO / ".venv-localstripe" / "bin" / "localstripe"


# Upper bounds for things that do happen: generous, so they hold on a loaded
# 2-core machine; a passing wait returns as soon as its condition holds.
PATIENCE_SECONDS = 120


def wait_for(condition, seconds=PATIENCE_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """An HTTP endpoint that records what it gets and answers as told."""

    def __init__(self):
        self.received = []
        self.answers = []  # status codes to give first; 200 afterwards
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(
                    {"headers": dict(self.headers), "body": body, "answered": code}
                )
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self):
        return [r for r in self.received if r["answered"] == 200]

    def close(self):
        self.server.shutdown()


class Localstripe:
    """localstripe (PyPI), in its own environment, on a free port."""

    def __init__(self):
        assert LOCALSTRIPE.exists(), "run bin/bootstrap: .venv-localstripe is missing"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(LOCALSTRIPE), "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self._answers), "localstripe did not start"

    def _answers(self):
        assert self.process.poll() is None, "localstripe died on start"
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class StripeProxy:
    """Passes Stripe API calls to localstripe, unless told to break the line: answer
    refund creations with Stripe-shaped 5xx errors, or call ``after_refund`` once
    localstripe has made a refund and before the caller hears of it."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.requests = []  # (method, path, headers)
        self.refund_errors = []  # statuses to answer refund creations with first
        self.after_refund = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                creates_refund = self.command == "POST" and self.path.startswith(
                    "/v1/refunds"
                )
                proxy.requests.append((self.command, self.path, dict(self.headers)))
                if creates_refund and proxy.refund_errors:
                    status = proxy.refund_errors.pop(0)
                    return self._answer(
                        status,
                        b'{"error": {"type": "api_error", '
                        b'"message": "Something went wrong on Stripe\'s end."}}',
                    )
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection")
                }
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                upstream.close()
                if creates_refund and proxy.after_refund is not None:
                    callback, proxy.after_refund = proxy.after_refund, None
                    callback()
                self._answer(response.status, payload)

            def _answer(self, status, payload):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the caller is gone (killed mid-call)

            do_GET = do_POST = do_DELETE = _relay

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def refund_creations(self):
        return [r for r in self.requests if r[0] == "POST" and r[1] == "/v1/refunds"]

    def reset(self):
        self.requests.clear()
        self.refund_errors.clear()
        self.after_refund = None

    def close(self):
        self.server.shutdown()


class CeleryWorker:
    """A real worker process on the test database, consuming this run's queue."""

    def __init__(self, celery_app, env: dict, queue: str):
        self.app = celery_app
        self.env = env
        self.queue = queue
        self.node = f"{queue}@localhost"
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "saleor.celeryconf:app",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "-Q",
                self.queue,
                "-n",
                self.node,
            ],
            env=dict(os.environ, **self.env),
            cwd=REPO,
        )
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not self.app.control.ping(destination=[self.node], timeout=1):
            assert self.process.poll() is None, "the Celery worker died on start"
            assert time.monotonic() < deadline, "the Celery worker did not start"

    def kill(self):
        """SIGKILL: no clean-up, no acknowledgement, as when a machine dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.terminate()
            self.process.wait(timeout=30)
