"""The core alone on today's stack (Python 3.12, Django 5.2): its own tables in
PostgreSQL, no Saleor and no host. ``AFTERSALES_HOST`` is empty, so anything that
asks the shop raises: these tests prove the code they run needs no host.

The 2.10 host's migrations name Saleor's tables, so the core's tables are created
from the models here (the Saleor 3.23 app brings its own migrations)."""

import os

SECRET_KEY = "core-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "saleor_aftersales",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("CORE_DATABASE_NAME", "saleor_aftersales_core"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
MIGRATION_MODULES = {"saleor_aftersales": None}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AFTERSALES_HOST = ""
