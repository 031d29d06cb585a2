"""The Saleor instances this app is installed in: one app serves several shops,
each with its own token and signing keys."""

from django.db import models
from django.utils import timezone


class SaleorShop(models.Model):
    # Saleor's GraphQL endpoint as it announced itself on registration.
    api_url = models.URLField(max_length=500, unique=True)
    app_id = models.CharField(max_length=64)
    # The app token Saleor gave this app: server-side only, never logged, shown or
    # sent anywhere but to this shop's own API.
    token = models.CharField(max_length=255)
    # The shop's public signing keys (/.well-known/jwks.json), cached.
    jwks = models.JSONField(default=dict, blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(default=timezone.now)

    def __repr__(self):  # the token stays out of logs and tracebacks
        return f"<SaleorShop {self.api_url}>"

    __str__ = __repr__

    @property
    def jwks_url(self) -> str:
        base = self.api_url.split("/graphql", 1)[0].rstrip("/")
        return f"{base}/.well-known/jwks.json"
