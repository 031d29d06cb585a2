"""Settings of the after-sales app service (Saleor 3.23 host), from its
environment:

- ``APP_DATABASE_URL``  the app's own PostgreSQL database (never Saleor's);
- ``APP_URL``           where Saleor and browsers reach the app, e.g.
                        https://aftersales.example.com (manifest and webhook URLs);
- ``APP_SECRET_KEY``    Django's secret key;
- ``APP_SALEOR_API_URLS`` Saleor GraphQL endpoints allowed to install the app,
                        comma-separated; required (empty: none may);
- ``APP_EMAIL_HOST``, ``APP_EMAIL_PORT`` the SMTP server of shoppers' e-mails
                        (localhost, 25), with ``APP_EMAIL_HOST_USER``,
                        ``APP_EMAIL_HOST_PASSWORD``, ``APP_EMAIL_USE_TLS`` /
                        ``APP_EMAIL_USE_SSL`` (True/False) and ``APP_EMAIL_TIMEOUT``
                        (seconds, 30);
- ``APP_DEFAULT_FROM_EMAIL`` their sender;
- ``APP_CELERY_BROKER_URL`` Redis for the app's worker (shopper e-mails), e.g.
                        redis://127.0.0.1:6379/3; empty: e-mails leave in the request.
"""

import os
from urllib.parse import unquote, urlparse


def database_from_url(url: str) -> dict:
    parts = urlparse(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
    }


SECRET_KEY = os.environ.get("APP_SECRET_KEY", "aftersales-app-not-secret")
DEBUG = os.environ.get("APP_DEBUG", "") == "True"
APP_URL = os.environ.get("APP_URL", "http://127.0.0.1:8100").rstrip("/")
ALLOWED_HOSTS = [urlparse(APP_URL).hostname, "localhost", "127.0.0.1"]
SALEOR_API_URLS = [
    url.strip() for url in os.environ.get("APP_SALEOR_API_URLS", "").split(",") if url
]

# Saleor Dashboards that show the app's pages (Saleor's own origin always may).
DASHBOARD_URLS = [
    url.strip() for url in os.environ.get("APP_DASHBOARD_URLS", "").split(",") if url
]

# Shoppers' e-mails, through Django's SMTP backend.
EMAIL_BACKEND = os.environ.get(
    "APP_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("APP_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("APP_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("APP_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("APP_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("APP_EMAIL_USE_TLS", "") == "True"
EMAIL_USE_SSL = os.environ.get("APP_EMAIL_USE_SSL", "") == "True"
# Django waits forever by default: a silent server would hold a sender.
EMAIL_TIMEOUT = float(os.environ.get("APP_EMAIL_TIMEOUT", 30))
DEFAULT_FROM_EMAIL = os.environ.get(
    "APP_DEFAULT_FROM_EMAIL", f"aftersales@{urlparse(APP_URL).hostname}"
)

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
# Claim photos (the core's photos.py keeps them under here).
MEDIA_ROOT = os.environ.get("APP_MEDIA_ROOT", os.path.join(os.getcwd(), "media"))
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "saleor_aftersales",
    "saleor_aftersales.hosts.saleor3",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "saleor_aftersales.hosts.saleor3.urls"
DATABASES = {
    "default": database_from_url(
        os.environ.get(
            "APP_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/saleor_aftersales_app",
        )
    )
}
# The 2.10 host's migrations name Saleor's tables; the app's copy of the core's
# tables has its own history.
MIGRATION_MODULES = {
    "saleor_aftersales": "saleor_aftersales.hosts.saleor3.core_migrations"
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AFTERSALES_HOST = "saleor_aftersales.hosts.saleor3.shop"
# Each Saleor's core rows live in a schema of its own (tenancy.py).
DATABASE_ROUTERS = ["saleor_aftersales.hosts.saleor3.tenancy.CoreInShopSchemas"]

# The shops' own webhook subscriptions may not post into the app's network
# (loopback, private, link-local addresses); a single-shop deployment may allow it.
AFTERSALES_WEBHOOKS_TO_PRIVATE_ADDRESSES = (
    os.environ.get("APP_WEBHOOKS_TO_PRIVATE_ADDRESSES", "") == "True"
)

# Webhooks older than this are refused (Saleor retries for a few hours at most).
WEBHOOK_MAX_AGE_SECONDS = int(os.environ.get("APP_WEBHOOK_MAX_AGE_SECONDS", 86400))
# At most one refresh of a shop's keys per this many seconds (an unknown key id in
# a forged signature must not make the app hammer Saleor).
JWKS_REFRESH_SECONDS = 60
SALEOR_TIMEOUT_SECONDS = 20

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# The app's Celery worker (worker.py) sends shopper e-mails; empty: the app sends
# them in the request after commit, and the sweeper retries.
CELERY_BROKER_URL = os.environ.get("APP_CELERY_BROKER_URL", "")
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("APP_CELERY_QUEUE", "aftersales-app")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
