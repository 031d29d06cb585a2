from django.apps import AppConfig


class Saleor3Config(AppConfig):
    name = "saleor_aftersales.hosts.saleor3"
    label = "aftersales_saleor3"
    verbose_name = "After-sales app for Saleor 3"
    default_auto_field = "django.db.models.BigAutoField"
