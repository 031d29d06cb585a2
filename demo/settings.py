"""A Saleor 2.10.1 shop with saleor-aftersales installed.

Environment first (Saleor's settings read it at import), then the three lines a
shop adds to install the plugin.
"""

import os

os.environ.setdefault("SECRET_KEY", "aftersales-demo-not-secret")
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/saleor_aftersales_demo"
)
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
# Where shoppers come from (the portal is served by the shop itself): hosts only,
# as Saleor compares a redirect URL's host without its port
# (saleor.core.utils.url.validate_storefront_url), so "localhost:8000" matches
# nothing. The IPv6 loopback is listed too; with DEBUG off, Saleor refuses to
# start when this is exactly its own default ("localhost,127.0.0.1").
os.environ.setdefault("ALLOWED_CLIENT_HOSTS", "localhost,127.0.0.1,[::1]")
os.environ.setdefault("DEBUG", "False")
# Mail to shoppers goes to the demo's mailbox (demo/mailbox.py, started by
# bin/demo, which moves its port with the shop's PORT); Saleor reads EMAIL_URL.
os.environ.setdefault("EMAIL_URL", "smtp://127.0.0.1:1025/")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "Demo shop <shop@example.com>")

from saleor.settings import *  # noqa: E402,F401,F403

# A port in a configured client host would refuse every redirect URL
# (accountRegister, password reset): keep the host part of each entry.
ALLOWED_CLIENT_HOSTS = [  # noqa: F405
    host.rsplit(":", 1)[0] if host.rsplit(":", 1)[-1].isdigit() else host
    for host in ALLOWED_CLIENT_HOSTS  # noqa: F405
]

INSTALLED_APPS = INSTALLED_APPS + ["saleor_aftersales"]  # noqa: F405
# The demo harness itself (its seeding command); not needed by a shop.
INSTALLED_APPS += ["demo"]
PLUGINS = PLUGINS + [
    "saleor_aftersales.hosts.saleor2.plugin.AftersalesPlugin"
]  # noqa: F405
ROOT_URLCONF = "saleor_aftersales.urls"

# Claim photos (and Saleor's media) in the project's own folder, not in
# site-packages where Saleor's default points.
MEDIA_ROOT = os.environ.get(
    "MEDIA_ROOT",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "media"),
)

# Saleor 2.10.1 is tested against plain HTTP on localhost.
SECURE_SSL_REDIRECT = False

# For `celery -A saleor.celeryconf:app beat`: sweepers for refunds and webhook
# deliveries and shopper e-mails whose task was lost or whose worker died, the
# service-level check, and the analytics rollups' past shards folded.
CELERY_BEAT_SCHEDULE = {
    "aftersales-find-sla-breaches": {
        "task": "saleor_aftersales.find_sla_breaches",
        "schedule": 300.0,
    },
    "aftersales-pay-due-refunds": {
        "task": "saleor_aftersales.pay_due_refunds",
        "schedule": 60.0,
    },
    "aftersales-deliver-due-webhooks": {
        "task": "saleor_aftersales.deliver_due_webhooks",
        "schedule": 60.0,
    },
    "aftersales-send-due-customer-emails": {
        "task": "saleor_aftersales.send_due_customer_emails",
        "schedule": 60.0,
    },
    "aftersales-fold-rollups": {
        "task": "saleor_aftersales.fold_rollups",
        "schedule": 3600.0,
    },
}
