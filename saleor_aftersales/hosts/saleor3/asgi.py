import os

from django.core.asgi import get_asgi_application

os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE", "saleor_aftersales.hosts.saleor3.settings"
)
application = get_asgi_application()
