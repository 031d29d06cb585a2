"""``make demo``: today's stack on this machine. Saleor 3.23.28 (server and the
Celery worker that delivers its webhooks) on :8000, the after-sales app on :8100
installed into it with ``appInstall``, a stand-in payment app (Transactions API)
on :8200, a mailbox that catches the app's e-mails (SMTP on :1025, read on :8025;
demo/mailbox.py), and sample data: staff and a customer with fulfilled, paid orders
(through the payment app, and through Saleor's Dummy gateway) and claims in several
states, made through the app's own API. Runs until Ctrl-C; every run starts from
fresh databases (Saleor's restored from the migrated dump in seconds) and an empty
mailbox.

``PORT`` moves everything by the same offset (PORT=8001: the app on :8101, the
mailbox on :1026 and :8026) and gives the databases names of their own, so that a
second demo leaves the first alone (then give it ``DEMO_REDIS_DB`` too).

Run from the app's Python (.venv-app): ``bin/demo`` does.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import psycopg
import redis

from demo import saleor3
from demo import saleor3_shop as shop
from demo.saleor3_payment_app import PaymentApp

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".demo"
SALEOR_PORT = int(os.environ.get("PORT", 8000))
OFFSET = SALEOR_PORT - 8000
APP_PORT = int(os.environ.get("APP_PORT", 8100 + OFFSET))
PAYMENT_APP_PORT = int(os.environ.get("PAYMENT_APP_PORT", 8200 + OFFSET))
MAILBOX_SMTP_PORT = int(os.environ.get("MAILBOX_SMTP_PORT", 1025 + OFFSET))
MAILBOX_PORT = int(os.environ.get("MAILBOX_PORT", 8025 + OFFSET))
SUFFIX = f"_{SALEOR_PORT}" if OFFSET else ""
SALEOR_DATABASE = f"saleor_aftersales_demo_saleor3{SUFFIX}"
APP_DATABASE = f"saleor_aftersales_demo_app{SUFFIX}"
REDIS_DB = int(os.environ.get("DEMO_REDIS_DB", 9))
# The app's own worker (shoppers' e-mails) queues on the next Redis database.
APP_REDIS_DB = REDIS_DB + 1
MAIL_FROM = "Demo shop <shop@example.com>"
STAFF = ("admin@example.com", "admin")
CUSTOMER = ("customer@example.com", "customer")
SWEEP_SECONDS = 15
PATIENCE = 180


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def wait_for(condition, what: str):
    try:
        return saleor3.wait_for(condition, PATIENCE, what)
    except TimeoutError as error:
        raise SystemExit(f"demo: {error}")


def fresh_app_database() -> str:
    with psycopg.connect(
        dbname="postgres", autocommit=True, **saleor3.PG
    ) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{APP_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{APP_DATABASE}"')
    pg = saleor3.PG
    return f"postgres://{pg['user']}@{pg['host']}:{pg['port']}/{APP_DATABASE}"


def app_environment(database_url: str, saleor_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="saleor_aftersales.hosts.saleor3.settings",
        APP_DATABASE_URL=database_url,
        APP_URL=f"http://127.0.0.1:{APP_PORT}",
        APP_SECRET_KEY="aftersales-demo-not-secret",
        APP_SALEOR_API_URLS=saleor_url,
        APP_MEDIA_ROOT=str(LOGS / "media"),
        # Shoppers' e-mails go to the demo's mailbox.
        APP_EMAIL_HOST="127.0.0.1",
        APP_EMAIL_PORT=str(MAILBOX_SMTP_PORT),
        APP_DEFAULT_FROM_EMAIL=MAIL_FROM,
        APP_CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{APP_REDIS_DB}",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def post(url: str, query: str, variables=None, token: str = "") -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=120) as response:
        content = json.loads(response.read())
    if content.get("errors"):
        raise SystemExit(f"demo: {content['errors']}")
    return content["data"]


INSTALL = """
mutation($url: String!, $permissions: [PermissionEnum!]) {
  appInstall(input: {appName: "After-sales", manifestUrl: $url,
                     permissions: $permissions}) { errors { field code message } }
}
"""
APPS = "{ apps(first: 20) { edges { node { id name isActive } } } }"
APP_TOKEN = "query($id: ID!) { app(id: $id) { accessToken } }"
CREATE = """
mutation($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id number lines { id quantity } } errors { code message }
  }
}
"""
STEP = """
mutation($id: ID!, $lines: [AftersalesReceiveLineInput!], $key: String) {
  approve: aftersalesRequestApprove(id: $id) { errors { code message } }
  receive: aftersalesRequestReceive(id: $id, lines: $lines) { errors { code message } }
  refund: aftersalesRequestRefund(id: $id, idempotencyKey: $key) {
    errors { code message }
  }
}
"""
ORDER_TOTAL = (
    "query($id: ID!) { order(id: $id) { total { gross { amount currency } } } }"
)


def fulfilled_order(saleor, token, goods, user, quantity, pay):
    order = shop.place_order(saleor, token, goods, CUSTOMER[0], quantity, user=user)
    pay(order)
    shop.fulfill(saleor, token, goods, order)
    return order


def main() -> None:
    reason = saleor3.available()
    if reason:
        raise SystemExit(
            f"demo: {reason}. Run bin/bootstrap, or `make demo HOST=saleor2` for "
            "the Saleor 2.10 plugin."
        )
    LOGS.mkdir(exist_ok=True)
    mailbox = start_mailbox()
    try:
        start()
    finally:
        os.killpg(mailbox.pid, signal.SIGTERM)


def start_mailbox() -> subprocess.Popen:
    """The mailbox (demo/mailbox.py), empty, as every run starts afresh."""
    directory = LOGS / f"mail-{SALEOR_PORT}"
    shutil.rmtree(directory, ignore_errors=True)
    say(f"starting the mailbox: SMTP on :{MAILBOX_SMTP_PORT}, pages on :{MAILBOX_PORT}")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "demo.mailbox",
            "--smtp-port",
            str(MAILBOX_SMTP_PORT),
            "--http-port",
            str(MAILBOX_PORT),
            "--dir",
            str(directory),
        ],
        cwd=ROOT,
        stdout=open(LOGS / f"mailbox-{SALEOR_PORT}.log", "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def up():
        if process.poll() is not None:
            raise SystemExit(
                f"demo: the mailbox did not start (.demo/mailbox-{SALEOR_PORT}.log)"
            )
        return _answers(f"http://127.0.0.1:{MAILBOX_PORT}/")

    wait_for(up, "the mailbox starting")
    return process


def start() -> None:
    say("restoring Saleor 3.23's database")
    saleor_db = saleor3.create_database(SALEOR_DATABASE)
    app_db = fresh_app_database()
    saleor_url = f"http://127.0.0.1:{SALEOR_PORT}/graphql/"
    env = app_environment(app_db, saleor_url)
    # Tasks a previous demo left in the app's queue name rows that are gone.
    redis.Redis(host="127.0.0.1", port=6379, db=APP_REDIS_DB).flushdb()
    python = sys.executable
    subprocess.run(
        [python, "-m", "django", "migrate", "--verbosity", "0"], env=env, check=True
    )
    processes = []
    say(f"starting Saleor 3.23 on :{SALEOR_PORT} (logs in .demo/)")
    with saleor3.Saleor(
        saleor_db, SALEOR_PORT, redis_db=REDIS_DB, log_dir=LOGS
    ) as saleor:
        log = open(LOGS / "app.log", "ab")
        processes.append(
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "uvicorn",
                    "saleor_aftersales.hosts.saleor3.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(APP_PORT),
                    "--no-access-log",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        processes.append(
            subprocess.Popen(
                [python, "-m", "celery", "-A", "saleor_aftersales.hosts.saleor3.worker"]
                + ["worker", "--pool=solo", "--loglevel=INFO"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        try:
            run(saleor, saleor_url, env)
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGTERM)


def run(saleor, saleor_url: str, env: dict) -> None:
    saleor.create_staff(*STAFF)
    saleor.create_customer(*CUSTOMER)
    staff = saleor.token(*STAFF)
    customer = saleor.token(*CUSTOMER)
    shop.set_shop_address(saleor, staff)
    boots = shop.make_goods(saleor, staff, sku="BOOTS-42", price=40)
    jacket = shop.make_goods(saleor, staff, sku="JACKET-M", price=120)

    app_url = f"http://127.0.0.1:{APP_PORT}"
    wait_for(lambda: _answers(f"{app_url}/api/manifest"), "the app starting")
    say("installing the app into Saleor (appInstall)")
    from saleor_aftersales.hosts.saleor3.manifest import PERMISSIONS

    post(
        saleor_url,
        INSTALL,
        {"url": f"{app_url}/api/manifest", "permissions": list(PERMISSIONS)},
        token=staff,
    )
    app_id = wait_for(
        lambda: next(
            (
                e["node"]["id"]
                for e in post(saleor_url, APPS, token=staff)["apps"]["edges"]
                if e["node"]["name"] == "After-sales" and e["node"]["isActive"]
            ),
            None,
        ),
        "Saleor installing the app",
    )
    payments = PaymentApp(saleor_url, PAYMENT_APP_PORT).start()
    payments.install(staff, patience=PATIENCE)

    say("placing the customer's orders")
    user = saleor3.user_id(customer)

    def through_payment_app(order):
        total = post(saleor_url, ORDER_TOTAL, {"id": order["id"]}, token=staff)
        gross = total["order"]["total"]["gross"]
        payments.charge(order["id"], Decimal(str(gross["amount"])), gross["currency"])

    charged = fulfilled_order(saleor, staff, boots, user, 2, through_payment_app)
    # Bought at the checkout with Saleor's Dummy gateway (a legacy payment).
    legacy = shop.bought_with_dummy(saleor, customer, jacket, CUSTOMER[0], 1)
    shop.fulfill(saleor, staff, jacket, legacy)
    fulfilled_order(saleor, staff, boots, user, 1, through_payment_app)

    desk = post(saleor_url, APP_TOKEN, {"id": app_id}, token=staff)["app"][
        "accessToken"
    ]
    api = f"{app_url}/graphql/"

    def claim(order, quantity, reason):
        wait_for(
            lambda: _eligible(api, order["id"], customer),
            "the order reaching the app",
        )
        line = order["lines"][0]["id"]
        created = post(
            api,
            CREATE,
            {
                "input": {
                    "order": order["id"],
                    "lines": [
                        {"orderLine": line, "quantity": quantity, "reason": reason}
                    ],
                }
            },
            token=customer,
        )["returnRequestCreate"]
        if created["errors"]:
            raise SystemExit(f"demo: {created['errors']}")
        return created["aftersalesRequest"]

    say("filing claims through the app's API")
    settled = claim(legacy, 1, "SIZE_OR_FIT")
    post(
        api,
        STEP,
        {
            "id": settled["id"],
            "lines": [
                {
                    "line": settled["lines"][0]["id"],
                    "quantity": 1,
                    "disposition": "RESTOCK",
                }
            ],
            "key": "demo-refund",
        },
        token=desk,
    )
    claim(charged, 1, "DEFECTIVE")

    print(
        f"""
  Saleor 3.23.28 with the after-sales app
  Saleor:    {saleor_url}       (its worker delivers the webhooks)
  App API:   {api}       (the plugin's contract; Saleor tokens)
  Portal:    {app_url}/aftersales/portal/    (shoppers: sign in at Saleor, claim, follow)
  Console:   {app_url}/aftersales/console/   (the desk; also in the Dashboard's Orders menu)
  Staff:     {STAFF[0]} / {STAFF[1]}          (everything, MANAGE_ORDERS included)
  Customer:  {CUSTOMER[0]} / {CUSTOMER[1]}    (three fulfilled, paid orders: two through
             the payment app (Transactions API), one at the checkout through the
             Dummy gateway; a return refunded, one waiting for the desk)
  Payments:  http://127.0.0.1:{PAYMENT_APP_PORT}/  (a stand-in payment app, settles refunds)
  Mailbox:   http://127.0.0.1:{MAILBOX_PORT}/?to={CUSTOMER[0]}
             (the e-mails to shoppers, sent by the app's Celery worker; SMTP on
             127.0.0.1:{MAILBOX_SMTP_PORT})
  A token:   mutation {{ tokenCreate(email: "{CUSTOMER[0]}", password: "{CUSTOMER[1]}") {{ token }} }}
             at Saleor, then send it to the app as  Authorization: Bearer <token>
  Ctrl-C stops everything. The app's sweeper runs every {SWEEP_SECONDS} s.
""",
        flush=True,
    )
    while True:
        subprocess.run(
            [sys.executable, "-m", "django", "aftersales_sweep"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(SWEEP_SECONDS)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


ELIGIBLE = "query($id: ID) { aftersalesEligibility(order: $id) { isReturnable } }"


def _eligible(api: str, order_id: str, token: str) -> bool:
    try:
        data = post(api, ELIGIBLE, {"id": order_id}, token=token)
    except SystemExit:
        return False
    return data["aftersalesEligibility"]["isReturnable"]


if __name__ == "__main__":
    # A SIGTERM stops everything as Ctrl-C does (the servers are in sessions of
    # their own, out of reach of a signal to this process's group).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        main()
    except KeyboardInterrupt:
        say("stopped")
