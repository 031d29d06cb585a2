"""Test settings: the demo shop's settings against the test database."""

import os

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saleor_aftersales"
)

from demo.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Saleor 2.10.1's wheel ships no e-mail templates: its e-mail tasks fail and log a
# traceback on every order event. The plugin doesn't depend on them; keep the
# test output readable.
LOGGING["loggers"]["celery.app.trace"] = {
    "level": "CRITICAL",
    "propagate": False,
}  # noqa

# Rate-limit counters of this run live under their own prefix in the real Redis.
AFTERSALES_THROTTLE_PREFIX = f"aftersales-test-{os.getpid()}"
