"""A local Saleor 3.23.28 for the app's tests and demo: its database restored from
the migrated dump in ../shared (seconds, not the 20 minutes of ``migrate``), its
ASGI server and its Celery worker (which delivers webhooks and installs apps), in
``.venv-saleor3`` (bin/bootstrap). Runs from the app's Python; imports no Saleor.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, Optional

import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-saleor3" / "bin" / "python"
INSTALLED_FROM = ROOT / ".venv-saleor3" / ".dist"  # written by bin/bootstrap
DIST = Path(
    os.environ.get("SALEOR3_DIST")
    or (INSTALLED_FROM.read_text().strip() if INSTALLED_FROM.exists() else "")
    or ROOT.parent / "shared" / "saleor-3.23.28"
)
TEMPLATE_DATABASE = "saleor3_migrated_template"
PG = dict(host="127.0.0.1", port=5432, user="postgres")
START_SECONDS = 180  # "answers GraphQL about 30 s after start" on an idle machine


def wait_for(condition, seconds: float = 120, what: str = "the condition"):
    """``condition()``'s first true value, polled until ``seconds`` have passed
    (a loaded 2-core machine: as long as it takes, returning as soon as it holds)."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not hold within {seconds} s")
        time.sleep(0.2)


def user_id(token: str) -> str:
    """The account a Saleor access token names (its ``user_id`` claim), read
    without checking the signature (Saleor checks it)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
        "user_id"
    ]


def available() -> Optional[str]:
    """Why Saleor 3.23 can't run here, or None when it can."""
    if not PYTHON.exists():
        return "Saleor 3.23.28 is not installed (.venv-saleor3; bin/bootstrap)"
    if not (DIST / "migrated.dump").exists():
        return f"no migrated Saleor 3.23 database at {DIST}"
    return None


def _admin():
    return psycopg.connect(dbname="postgres", autocommit=True, **PG)


def create_database(name: str) -> str:
    """A fresh, migrated Saleor database ``name`` (dropped first if it exists)."""
    with _admin() as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE_DATABASE,)
        ).fetchone()
        if not exists:
            building = f"{TEMPLATE_DATABASE}_building"
            connection.execute(f'DROP DATABASE IF EXISTS "{building}"')
            connection.execute(f'CREATE DATABASE "{building}"')
            subprocess.run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-acl",
                    "-h",
                    PG["host"],
                    "-U",
                    PG["user"],
                    "-d",
                    building,
                    str(DIST / "migrated.dump"),
                ],
                check=True,
            )
            connection.execute(
                f'ALTER DATABASE "{building}" RENAME TO "{TEMPLATE_DATABASE}"'
            )
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def new_rsa_key() -> str:
    """The PEM key a Saleor signs its tokens and webhooks with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def environment(database_url: str, port: int, rsa_key: str, redis_db: int) -> Dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "PYTEST"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="saleor.settings",
        SECRET_KEY="saleor3-local-not-secret",
        RSA_PRIVATE_KEY=rsa_key,
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="localhost,127.0.0.1",
        ALLOWED_CLIENT_HOSTS="localhost,127.0.0.1",
        PUBLIC_URL=f"http://127.0.0.1:{port}/",
        CACHE_URL=f"redis://127.0.0.1:6379/{redis_db}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db}",
        # One machine: Saleor may call the app on the loopback address. Never in a
        # shop's production.
        HTTP_IP_FILTER_ALLOW_LOOPBACK_IPS="True",
        DEBUG="False",
        PYTHONUNBUFFERED="1",
    )
    return env


class Saleor:
    """Saleor 3.23's server and worker on ``port``; ``with`` stops them."""

    def __init__(self, database_url: str, port: int, *, redis_db: int, log_dir: Path):
        self.port = port
        self.database_url = database_url
        self.url = f"http://127.0.0.1:{port}/graphql/"
        self.env = environment(database_url, port, new_rsa_key(), redis_db)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.logs = log_dir
        self.processes = []
        self._flush_broker(redis_db)
        self._start(
            "server",
            [
                str(PYTHON),
                "-m",
                "uvicorn",
                "saleor.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
            ],
        )
        self._start(
            "worker",
            [
                str(PYTHON),
                "-m",
                "celery",
                "-A",
                "saleor.celeryconf:app",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
        )
        self._wait_until_up()

    @staticmethod
    def _flush_broker(redis_db: int) -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=redis_db).flushdb()

    def _start(self, name, command):
        log = open(self.logs / f"saleor3-{name}.log", "ab")
        self.processes.append(
            subprocess.Popen(
                command,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.logs,
                start_new_session=True,
            )
        )

    def _wait_until_up(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"Saleor 3.23 exited early; see {self.logs}/saleor3-*.log"
                    )
            try:
                if self.graphql("{ shop { name } }").get("data"):
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"Saleor 3.23 did not answer in {START_SECONDS} s")

    def graphql(self, query: str, variables=None, token: str = "") -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read() or b"{}")

    def manage(self, code: str) -> str:
        """Run Python with Saleor's Django set up (accounts, fixtures)."""
        script = "import django; django.setup()\n" + code
        done = subprocess.run(
            [str(PYTHON), "-c", script],
            env=self.env,
            capture_output=True,
            text=True,
            cwd=self.logs,
        )
        if done.returncode:
            raise RuntimeError(done.stderr[-3000:])
        return done.stdout

    def create_staff(self, email: str, password: str, permissions=None) -> None:
        """A staff member in a group with access to every channel (Saleor 3
        checks channel access by group): every permission, or only
        ``permissions`` (codenames such as "manage_products")."""
        chosen = (
            "Permission.objects.all()"
            if permissions is None
            else f"Permission.objects.filter(codename__in={list(permissions)!r})"
        )
        self.manage(
            "from saleor.account.models import Group, User\n"
            "from saleor.permission.models import Permission\n"
            f"group = Group.objects.create(name='Staff ' + {email!r},"
            " restricted_access_to_channels=False)\n"
            f"group.permissions.set({chosen})\n"
            f"user = User(email={email!r}, is_staff=True,"
            f" is_superuser={permissions is None}, is_active=True)\n"
            f"user.set_password({password!r})\n"
            "user.save()\n"
            "user.groups.add(group)\n"
        )

    def create_customer(self, email: str, password: str) -> None:
        self.manage(
            "from saleor.account.models import User\n"
            f"user = User(email={email!r}, is_active=True)\n"
            f"user.set_password({password!r})\n"
            "user.save()\n"
        )

    def token(self, email: str, password: str) -> str:
        data = self.graphql(
            "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p)"
            " { token errors { code message } } }",
            {"e": email, "p": password},
        )
        token = (data.get("data") or {}).get("tokenCreate", {}).get("token")
        if not token:
            raise RuntimeError(f"tokenCreate failed: {data}")
        return token

    def deliveries_pending(self, app_id: str) -> int:
        """Webhook deliveries Saleor still owes the app ``app_id`` (a global id):
        queued, or sent and not yet answered. Read from Saleor's own records."""
        app_pk = int(base64.b64decode(app_id).decode().split(":", 1)[1])
        with psycopg.connect(self.database_url) as connection:
            return connection.execute(
                "SELECT count(*) FROM core_eventdelivery delivery"
                " JOIN webhook_webhook webhook ON webhook.id = delivery.webhook_id"
                " WHERE delivery.status = 'pending' AND webhook.app_id = %s",
                (app_pk,),
            ).fetchone()[0]

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":  # a quick look by hand: python demo/saleor3.py DB PORT
    url = create_database(sys.argv[1])
    with Saleor(url, int(sys.argv[2]), redis_db=12, log_dir=ROOT / ".demo") as shop:
        print(shop.graphql("{ shop { name } }"))
