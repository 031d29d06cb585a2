from django.apps import AppConfig

from . import port


class AftersalesConfig(AppConfig):
    name = "saleor_aftersales"
    label = "saleor_aftersales"
    verbose_name = "After-sales"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        # Celery's registry must know the tasks wherever work is queued by name
        # (dispatch.py), not only in the worker that autodiscovers them: the
        # core's task bodies, and the host's own (the 2.10 host: telling Saleor).
        from . import tasks  # noqa: F401

        if port.host_name():
            port.load_host()
