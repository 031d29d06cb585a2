"""The app's Celery worker: work that must not hold up a request (shopper
e-mails) leaves it here, through Redis, for
``celery -A saleor_aftersales.hosts.saleor3.worker worker``.

Each task runs in the schema of the Saleor it was queued for: ``send_task``
names the shop in the message (``SHOP_KWARG``) and ``ShopTask`` serves that
shop around the task's body. Without a broker configured (``CELERY_BROKER_URL``
empty) the app does such work in the request after commit, as it does with
work whose answer the request gives (refunds, Saleor calls).
"""

import os

from celery import Celery, Task

os.environ.setdefault(
    "DJANGO_SETTINGS_MODULE", "saleor_aftersales.hosts.saleor3.settings"
)

SHOP_KWARG = "_aftersales_shop"


class ShopTask(Task):
    # The shop rides along as a keyword the task's own signature doesn't name.
    typing = False

    def __call__(self, *args, **kwargs):
        shop_pk = kwargs.pop(SHOP_KWARG, None)
        if shop_pk is None:
            return super().__call__(*args, **kwargs)
        from . import tenancy
        from .models import SaleorShop

        shop = SaleorShop.objects.filter(pk=shop_pk).first()
        if shop is None:  # uninstalled since: nothing of it is left to do
            return None
        with tenancy.serving(shop):
            return super().__call__(*args, **kwargs)


app = Celery("saleor_aftersales_app", task_cls=ShopTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["saleor_aftersales"])
