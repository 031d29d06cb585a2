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
    # The warehouse restocked returns go to (created by the app, sold from no
    # channel): only the app writes its stock, so setting a quantity is safe.
    returns_warehouse_id = models.CharField(max_length=128, blank=True, default="")
    # The desk's after-sales settings by name (the core's settings.SETTINGS);
    # those not saved take their defaults.
    configuration = models.JSONField(default=dict, blank=True)
    installed_at = models.DateTimeField(default=timezone.now)

    def __repr__(self):  # the token stays out of logs and tracebacks
        return f"<SaleorShop {self.api_url}>"

    __str__ = __repr__

    @property
    def jwks_url(self) -> str:
        base = self.api_url.split("/graphql", 1)[0].rstrip("/")
        return f"{base}/.well-known/jwks.json"


class SaleorCall(models.Model):
    """A change the app owes Saleor (a timeline note, a return, a refund request):
    written in the same transaction as the claim's step that caused it, then made
    over HTTP. A call interrupted after Saleor acted is found there again by its
    reference, never made twice."""

    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATUSES = [(PENDING, "pending"), (DONE, "done"), (FAILED, "failed")]
    NOTE, RETURN, RESTOCK = "note", "return", "restock"
    KINDS = [(NOTE, "timeline note"), (RETURN, "returned goods"), (RESTOCK, "restock")]

    shop = models.ForeignKey(SaleorShop, on_delete=models.CASCADE, related_name="calls")
    kind = models.CharField(max_length=32, choices=KINDS)
    order_ref = models.CharField(max_length=128)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # While an attempt runs, no other takes the call (a dead worker's lease ends).
    lease_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="saleor_call_pending",
                condition=models.Q(status="pending"),
            )
        ]

    @property
    def reference(self) -> str:
        """What marks Saleor's record of this call, to find it again."""
        return f"[aftersales #{self.pk}]"
