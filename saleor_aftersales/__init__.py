"""After-sales service for Saleor: returns, exchanges, repairs, refunds, warranty."""

default_app_config = "saleor_aftersales.apps.AftersalesConfig"
