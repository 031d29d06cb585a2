from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "saleor_aftersales"
    label = "saleor_aftersales"
    verbose_name = "After-sales"
