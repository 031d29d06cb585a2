from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "saleor_aftersales"
    label = "saleor_aftersales"
    verbose_name = "After-sales"

    def ready(self):
        # Celery's registry must know the tasks wherever work is queued by name
        # (dispatch.py), not only in the worker that autodiscovers them.
        from . import tasks  # noqa: F401
