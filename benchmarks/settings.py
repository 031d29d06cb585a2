"""Benchmark settings: the test settings on a database of its own, with Celery
tasks queued on Redis (as in production) instead of run inline."""

import os

os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saleor_aftersales_bench"
)

from tests.settings import *  # noqa: E402,F401,F403

DEBUG = False
# Queued, not run: neither Saleor's e-mails nor the plugin's webhooks are timed.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/10")
AFTERSALES_CELERY_QUEUE = "aftersales-bench"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["saleor"]["level"] = "WARNING"  # noqa: F405
