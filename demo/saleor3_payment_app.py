"""A stand-in payment app for Saleor 3.23: the third party that owns an order's
transactions (a PSP's Saleor app), which can't run here. It speaks Saleor's own
protocol: installed with ``appInstall`` from its manifest (Saleor posts its token
to ``/api/register``), it charges orders with ``transactionCreate`` (as a payment
app records a payment it took) and answers Saleor's TRANSACTION_REFUND_REQUESTED
sync webhook, signed with the shop's key (verified against its JWKS):

- ``mode="async"`` (how PSPs settle): the response carries only the refund's PSP
  reference; once Saleor has recorded it, the outcome is reported with
  ``transactionEventReport`` (REFUND_SUCCESS, or REFUND_FAILURE when refusing);
- ``mode="sync"``: the response carries the result itself;
- ``refuse = True``: every refund is refused (REFUND_FAILURE).

A thread in the app's tests (``PaymentApp(...).start()``), or a process for a
demo: ``python -m demo.saleor3_payment_app http://127.0.0.1:8000/graphql/ 8200``,
then install ``http://127.0.0.1:8200/api/manifest``. Imports no Saleor."""

import base64
import json
import logging
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from jwt.algorithms import RSAAlgorithm

logger = logging.getLogger(__name__)

APP_ID = "demo.payment-app"
NAME = "Demo payment app"
REPORT_PATIENCE_SECONDS = 120

REFUND_REQUESTED = """
subscription {
  event {
    __typename issuedAt
    ... on TransactionRefundRequested {
      transaction { id pspReference }
      action { amount currency actionType }
      grantedRefund { id }
    }
  }
}
"""
INSTALL = """
mutation($name: String!, $url: String!) {
  appInstall(input: {appName: $name, manifestUrl: $url,
                     permissions: [HANDLE_PAYMENTS]}) {
    errors { field code message }
  }
}
"""
CHARGE = """
mutation($id: ID!, $amount: PositiveDecimal!, $currency: String!, $psp: String!) {
  transactionCreate(id: $id, transaction: {
    name: "Demo card", pspReference: $psp, availableActions: [REFUND],
    amountCharged: {amount: $amount, currency: $currency}
  }) { transaction { id } errors { field code message } }
}
"""
EVENTS = """
query($id: ID!) { transaction(id: $id) { events { type pspReference } } }
"""
REPORT = """
mutation($id: ID!, $type: TransactionEventTypeEnum!, $amount: PositiveDecimal!,
         $psp: String!, $message: String) {
  transactionEventReport(id: $id, type: $type, amount: $amount, pspReference: $psp,
                         message: $message, availableActions: [REFUND]) {
    alreadyProcessed errors { field code message }
  }
}
"""


class Refused(Exception):
    pass


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PaymentApp:
    def __init__(
        self, saleor_api_url: str, port: int = 0, *, host="127.0.0.1", mode="async"
    ):
        self.saleor_api_url = saleor_api_url
        self.mode = mode
        self.refuse = False
        self.token: Optional[str] = None
        self.refund_requests = []  # what Saleor asked, in order
        self.reported = []  # (transaction, psp reference, result) reported async
        self._jwks: dict = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.url = f"http://{host}:{self.server.server_port}"
        self._thread: Optional[threading.Thread] = None

    # Running.

    def start(self) -> "PaymentApp":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def manifest(self) -> dict:
        return {
            "id": APP_ID,
            "version": "1.0.0",
            "name": NAME,
            "about": "Takes payments and refunds them (a stand-in PSP).",
            "permissions": ["HANDLE_PAYMENTS"],
            "appUrl": f"{self.url}/",
            "tokenTargetUrl": f"{self.url}/api/register",
            "webhooks": [
                {
                    "name": "Refunds",
                    "syncEvents": ["TRANSACTION_REFUND_REQUESTED"],
                    "query": REFUND_REQUESTED,
                    "targetUrl": f"{self.url}/api/webhooks/refund",
                    "isActive": True,
                }
            ],
            "extensions": [],
        }

    # Saleor's API, as this app.

    def graphql(self, query: str, variables=None, token: Optional[str] = None):
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            self.saleor_api_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token or self.token}",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            content = json.loads(response.read())
        if content.get("errors"):
            raise Refused(content["errors"])
        return content["data"]

    def _mutate(self, query, variables, field, token=None) -> dict:
        payload = self.graphql(query, variables, token=token)[field]
        if payload.get("errors"):
            raise Refused(payload["errors"])
        return payload

    def install(self, staff_token: str, patience: float = 120) -> None:
        """``appInstall`` from this app's manifest, by a staff member; returns
        once Saleor has handed over the app's token."""
        self._mutate(
            INSTALL,
            {"name": NAME, "url": f"{self.url}/api/manifest"},
            "appInstall",
            token=staff_token,
        )
        deadline = time.monotonic() + patience
        while self.token is None:
            if time.monotonic() > deadline:
                raise RuntimeError("Saleor did not register the payment app")
            time.sleep(0.2)

    def charge(self, order_id: str, amount: Decimal, currency: str) -> str:
        """A payment taken for the order: a transaction of this app, charged."""
        return self._mutate(
            CHARGE,
            {
                "id": order_id,
                "amount": str(amount),
                "currency": currency,
                "psp": f"charge-{uuid.uuid4().hex[:12]}",
            },
            "transactionCreate",
        )["transaction"]["id"]

    # Saleor calling.

    def _handler(self):
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):  # quiet
                logger.debug(format, *args)

            def _answer(self, status: int, content: dict) -> None:
                body = json.dumps(content).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/api/manifest":
                    return self._answer(200, app.manifest())
                return self._answer(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                api_url = self.headers.get("Saleor-Api-Url", "")
                if api_url != app.saleor_api_url:
                    return self._answer(403, {"error": "unknown Saleor"})
                if self.path == "/api/register":
                    return self._answer(*app.register(body))
                if self.path == "/api/webhooks/refund":
                    if not app.verify(body, self.headers.get("Saleor-Signature", "")):
                        return self._answer(401, {"error": "bad signature"})
                    return self._answer(200, app.refund_requested(json.loads(body)))
                return self._answer(404, {"error": "not found"})

        return Handler

    def register(self, body: bytes):
        try:
            token = json.loads(body)["auth_token"]
            self.graphql("{ app { id } }", token=token)  # it works there
        except (ValueError, KeyError, Refused, urllib.error.URLError):
            return 400, {"success": False}
        self.token = token
        return 200, {"success": True}

    def _jwk(self, key_id: str, refresh: bool):
        if refresh or not self._jwks:
            base = self.saleor_api_url.split("/graphql", 1)[0]
            with urllib.request.urlopen(
                f"{base}/.well-known/jwks.json", timeout=30
            ) as response:
                self._jwks = json.loads(response.read())
        for jwk in self._jwks.get("keys", []):
            if jwk.get("kid") == key_id:
                return RSAAlgorithm.from_jwk(json.dumps(jwk))
        return None

    def verify(self, body: bytes, signature: str) -> bool:
        """The body is signed with the shop's key: a detached JWS (RS256, b64 off)."""
        parts = signature.split(".")
        if len(parts) != 3 or parts[1]:
            return False
        try:
            header = json.loads(_b64decode(parts[0]))
            signed = _b64decode(parts[2])
        except ValueError:
            return False
        if header.get("alg") != "RS256" or header.get("b64") is not False:
            return False
        with self._lock:
            key = self._jwk(header.get("kid"), refresh=False) or self._jwk(
                header.get("kid"), refresh=True
            )
        if key is None:
            return False
        try:
            key.verify(
                signed,
                parts[0].encode() + b"." + body,
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return False
        return True

    def refund_requested(self, payload: dict) -> dict:
        """The PSP's answer to TRANSACTION_REFUND_REQUESTED."""
        transaction = payload["transaction"]["id"]
        amount = Decimal(str(payload["action"]["amount"]))
        psp = f"refund-{uuid.uuid4().hex[:12]}"
        result = "REFUND_FAILURE" if self.refuse else "REFUND_SUCCESS"
        self.refund_requests.append(
            {
                "transaction": transaction,
                "amount": amount,
                "granted_refund": (payload.get("grantedRefund") or {}).get("id"),
                "psp_reference": psp,
            }
        )
        message = "Refused by the card issuer." if self.refuse else "Refunded."
        if self.mode == "sync":
            return {
                "pspReference": psp,
                "result": result,
                "amount": str(amount),
                "message": message,
            }
        threading.Thread(
            target=self._report,
            args=(transaction, psp, amount, result, message),
            daemon=True,
        ).start()
        return {"pspReference": psp}

    def _report(self, transaction, psp, amount, result, message) -> None:
        """Later, as a PSP's notification: once Saleor has recorded the request
        under our reference (after this webhook's answer), report the outcome."""
        deadline = time.monotonic() + REPORT_PATIENCE_SECONDS
        try:
            while not any(
                event["type"] == "REFUND_REQUEST" and event["pspReference"] == psp
                for event in self.graphql(EVENTS, {"id": transaction})["transaction"][
                    "events"
                ]
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Saleor never recorded refund {psp}")
                time.sleep(0.2)
            self._mutate(
                REPORT,
                {
                    "id": transaction,
                    "type": result,
                    "amount": str(amount),
                    "psp": psp,
                    "message": message,
                },
                "transactionEventReport",
            )
            self.reported.append((transaction, psp, result))
        except Exception:  # noqa: BLE001 - a thread: log it
            logger.exception("Could not report refund %s", psp)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    if len(sys.argv) < 3:
        sys.exit("usage: python -m demo.saleor3_payment_app SALEOR_API_URL PORT [sync]")
    app = PaymentApp(sys.argv[1], int(sys.argv[2]), mode=(sys.argv[3:] or ["async"])[0])
    print(f"Install {app.url}/api/manifest (appInstall, HANDLE_PAYMENTS)", flush=True)
    app.server.serve_forever()
