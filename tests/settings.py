"""Test settings: the demo shop's settings against the test database."""

import os
import tempfile

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saleor_aftersales"
)

from demo.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The Celery worker of the tests (tests/conftest.py) sends to the run's SMTP server
# (tests/smtp.py); in the test process the ``smtp`` fixture points Django there.
if os.environ.get("AFTERSALES_TEST_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = int(os.environ["AFTERSALES_TEST_SMTP_PORT"])
    EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
    EMAIL_USE_TLS = EMAIL_USE_SSL = False

# Saleor 2.10.1's wheel ships no e-mail templates: its e-mail tasks fail and log a
# traceback on every order event. The plugin doesn't depend on them; keep the
# test output readable.
LOGGING["loggers"]["celery.app.trace"] = {
    "level": "CRITICAL",
    "propagate": False,
}  # noqa

# Rate-limit counters of this run live under their own prefix in the real Redis.
AFTERSALES_THROTTLE_PREFIX = f"aftersales-test-{os.getpid()}"

# Celery: the broker is the real Redis. Tasks run eagerly unless a test starts a
# real worker (tests/test_webhooks.py), which consumes this run's own queue.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/9"
# The worker process itself must not run what it sends (retries) eagerly.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("AFTERSALES_CELERY_WORKER") != "1"
AFTERSALES_CELERY_QUEUE = os.environ.get(
    "AFTERSALES_CELERY_QUEUE", f"aftersales-test-{os.getpid()}"
)
AFTERSALES_WEBHOOK_BACKOFF_SECONDS = 0.2
AFTERSALES_WEBHOOK_MAX_ATTEMPTS = 3
AFTERSALES_REFUND_BACKOFF_SECONDS = 0.2
AFTERSALES_REFUND_LEASE_SECONDS = 2
# Stripe calls go to localstripe (behind the tests' proxy), never to Stripe.
AFTERSALES_STRIPE_API_BASE = os.environ.get("AFTERSALES_STRIPE_API_BASE")

# Uploaded claim photos of this run.
MEDIA_ROOT = tempfile.mkdtemp(prefix="aftersales-test-media-")

# Saleor keeps connections for 10 minutes; the live server's request threads
# would each keep one open until PostgreSQL runs out (the race tests start
# hundreds). Close them at the end of every request, as a worker pool would reuse.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
