"""Claims, their lines, their audit trail and the money sent back for them.

Status is written only by ``workflow`` (and ``refunds`` for money); these
classes carry fields, constraints and small derived properties.
"""

import uuid
from decimal import Decimal
from typing import Optional

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

try:  # Django 3.1 and later (the app's 5.2)
    from django.db.models import JSONField
except ImportError:  # Django 3.0 (Saleor 2.10): the same column type, jsonb
    from django.contrib.postgres.fields import JSONField

from .enums import (
    ActorType,
    Disposition,
    EventType,
    HandBackMethod,
    QuoteLineKind,
    Reason,
    RefundMethod,
    RefundStatus,
    RejectReason,
    RequestStatus,
    RequestType,
    Resolution,
    UsageUnit,
    WarrantyEndedBy,
    WarrantyEventType,
    WarrantyStatus,
)

NUMBER_PREFIX = "RMA-"
# Saleor's money columns (12 digits, 2 places); an app host without these settings
# gets the same.
MONEY = dict(max_digits=getattr(settings, "DEFAULT_MAX_DIGITS", 12), decimal_places=2)
CURRENCY_LENGTH = getattr(settings, "DEFAULT_CURRENCY_CODE_LENGTH", 3)
# The host's ids as the core keeps them: Saleor 2.10's integers, Saleor 3's global ids
# (base64 of "TransactionItem:<uuid>" is 72 characters).
REF_LENGTH = 128


def format_number(pk: int) -> str:
    return f"{NUMBER_PREFIX}{pk:06d}"


def parse_number(text: str):
    """'RMA-000123', 'rma-123' or '123' -> 123; anything else -> None."""
    text = text.strip().upper()
    if text.startswith(NUMBER_PREFIX):
        text = text[len(NUMBER_PREFIX) :]
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


class ShopOrder(models.Model):
    """The core's copy of one of the shop's orders, filled by the host from its
    own records (``orders.save_order``) and keyed by the host's id: claims, cards,
    eligibility and statistics read this, never the host's tables."""

    host_id = models.CharField(max_length=REF_LENGTH, unique=True)
    number = models.CharField(max_length=64)
    status = models.CharField(max_length=32, blank=True, default="")
    user_email = models.CharField(max_length=254, blank=True, default="")
    customer_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    guest_token = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    total_gross_amount = models.DecimalField(**MONEY)
    shipping_price_gross_amount = models.DecimalField(**MONEY)
    placed_at = models.DateTimeField()
    copied_at = models.DateTimeField(default=timezone.now)
    # When the host's facts were true (a webhook's issue time); older facts
    # arriving later change nothing. Null: facts read live from the host.
    facts_at = models.DateTimeField(null=True, blank=True)

    DRAFT = "draft"

    class Meta:
        ordering = ("pk",)
        indexes = [
            models.Index(fields=["placed_at"], name="aftersales_shoporder_placed"),
            models.Index(fields=["user_email"], name="aftersales_shoporder_email"),
            models.Index(fields=["number"], name="aftersales_shoporder_number"),
        ]

    def __str__(self):
        return f"#{self.number}"

    @property
    def is_guest_order(self) -> bool:
        return not self.customer_ref


class ShopOrderLine(models.Model):
    """The core's copy of one order line: what was sold and how much went out."""

    order = models.ForeignKey(ShopOrder, related_name="lines", on_delete=models.CASCADE)
    host_id = models.CharField(max_length=REF_LENGTH, unique=True)
    variant_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    product_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    product_type_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    product_name = models.CharField(max_length=386)
    variant_name = models.CharField(max_length=255, blank=True, default="")
    sku = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    unit_price_gross_amount = models.DecimalField(**MONEY)
    quantity = models.PositiveIntegerField()
    quantity_fulfilled = models.PositiveIntegerField(default=0)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # What this line last added to the units sold in ``ProductDay`` (the order's
    # day in the desk's zone, and units), so a refreshed copy adds the difference.
    rolled_day = models.DateField(null=True, blank=True)
    rolled_units = models.IntegerField(default=0)

    class Meta:
        ordering = ("pk",)

    def __str__(self):
        name = (
            f"{self.product_name} ({self.variant_name})"
            if self.variant_name
            else self.product_name
        )
        return f"{name} ({self.sku})" if self.sku else name


class AftersalesRequest(models.Model):
    type = models.CharField(max_length=16, choices=RequestType.CHOICES)
    status = models.CharField(
        max_length=16,
        choices=RequestStatus.CHOICES,
        default=RequestStatus.REQUESTED,
        db_index=True,
    )
    order = models.ForeignKey(
        ShopOrder, related_name="aftersales_requests", on_delete=models.PROTECT
    )
    # The shop's account that placed the order (the host's user id); empty for a
    # guest's order.
    customer_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    user_email = models.EmailField(blank=True, default="")
    customer_note = models.TextField(blank=True, default="")
    # The staff member in charge (the host's user id).
    assignee_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    reject_reason = models.CharField(
        max_length=32, choices=RejectReason.CHOICES, blank=True, default=""
    )
    resolution = models.CharField(
        max_length=16, choices=Resolution.CHOICES, blank=True, default=""
    )
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    # Repairs: the card that was shown, whether it covers, and why not.
    warranty_card = models.ForeignKey(
        "WarrantyCard",
        related_name="requests",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    under_warranty = models.BooleanField(default=False)
    warranty_note = models.TextField(blank=True, default="")
    # Repairs: what the counter clerk records at reception.
    received_condition = models.TextField(blank=True, default="")
    received_accessories = models.TextField(blank=True, default="")
    hand_back_method = models.CharField(
        max_length=16, choices=HandBackMethod.CHOICES, blank=True, default=""
    )
    hand_back_tracking_number = models.CharField(max_length=255, blank=True, default="")
    # Exchanges: the order that sends the replacement.
    replacement_order = models.ForeignKey(
        ShopOrder,
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    # Approved for a refund without the goods coming back (below the threshold).
    returnless = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True, default="")
    # Given by the storefront so a retried create returns the first claim.
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    # The language the customer hears from the shop in ("en", "zh-hans"); empty:
    # the shop's default for shopper e-mails.
    language = models.CharField(max_length=16, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    appealed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Service levels: due times fixed at creation (business time, in UTC), when the
    # desk first answered and concluded, and the business time each took.
    sla_response_due_at = models.DateTimeField(null=True, blank=True)
    sla_resolution_due_at = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    concluded_at = models.DateTimeField(null=True, blank=True)
    response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    # While the claim waits on the customer the resolution clock stands still.
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    # When the sweeper found each target missed (and escalated), once each.
    response_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-pk",)
        constraints = [
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="aftersales_request_unique_idempotency_key",
            )
        ]
        indexes = [
            models.Index(fields=["user_email"]),
            models.Index(fields=["customer_ref"], name="aftersales_request_customer"),
            # The desk's queue: open claims by due time (overdue filter, sorting,
            # the breach sweeper) without touching the settled million.
            models.Index(
                fields=["sla_resolution_due_at", "id"],
                condition=~Q(status__in=RequestStatus.FINISHED),
                name="aftersales_open_resolution_due",
            ),
            models.Index(
                fields=["sla_response_due_at", "id"],
                condition=~Q(status__in=RequestStatus.FINISHED),
                name="aftersales_open_response_due",
            ),
            # Statistics' medians over a period, read from the index alone.
            models.Index(
                fields=[
                    "created_at",
                    "response_business_seconds",
                    "resolution_business_seconds",
                ],
                name="aftersales_request_durations",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return format_number(self.pk) if self.pk else ""


class AftersalesLine(models.Model):
    request = models.ForeignKey(
        AftersalesRequest, related_name="lines", on_delete=models.CASCADE
    )
    order_line = models.ForeignKey(
        ShopOrderLine, related_name="+", on_delete=models.PROTECT
    )
    quantity_requested = models.PositiveIntegerField()
    quantity_approved = models.PositiveIntegerField(default=0)
    # Received = restocked + damaged; missing units never arrived.
    quantity_received = models.PositiveIntegerField(default=0)
    quantity_restocked = models.PositiveIntegerField(default=0)
    quantity_missing = models.PositiveIntegerField(default=0)
    quantity_refunded = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=32, choices=Reason.CHOICES)
    comment = models.TextField(blank=True, default="")
    # Exchanges: what the customer wants instead (the host's variant id).
    replacement_variant_ref = models.CharField(
        max_length=REF_LENGTH, blank=True, default=""
    )
    # Repairs: which unit (serial number or VIN) and its odometer/hour meter.
    serial_number = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    meter_reading = models.PositiveIntegerField(null=True, blank=True)
    # Of the latest receipt; the RECEIVED events keep each parcel's.
    disposition = models.CharField(
        max_length=16, choices=Disposition.CHOICES, blank=True, default=""
    )
    # Staff may open a claim the policy refuses (e.g. FINAL_SALE); the refusal is
    # kept here and approval then needs an explicit, audited override.
    policy_exception = models.CharField(max_length=32, blank=True, default="")
    # What the customer paid for one unit (order discounts included), frozen when
    # the claim is made.
    unit_price_gross_amount = models.DecimalField(**MONEY)
    # The claim's creation time, copied so that statistics by reason read one
    # index instead of joining a year of claims.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        indexes = [
            models.Index(
                fields=["created_at", "reason", "quantity_requested"],
                name="aftersales_line_by_time",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "order_line"], name="aftersales_line_unique"
            ),
            models.CheckConstraint(
                check=Q(quantity_approved__lte=F("quantity_requested")),
                name="aftersales_line_approved_lte_requested",
            ),
            models.CheckConstraint(
                check=Q(
                    quantity_received__lte=F("quantity_approved")
                    - F("quantity_missing")
                ),
                name="aftersales_line_received_lte_approved",
            ),
            models.CheckConstraint(
                check=Q(quantity_restocked__lte=F("quantity_received")),
                name="aftersales_line_restocked_lte_received",
            ),
            models.CheckConstraint(
                check=Q(quantity_refunded__lte=F("quantity_approved")),
                name="aftersales_line_refunded_lte_approved",
            ),
        ]

    @property
    def quantity_settled(self) -> int:
        """Approved units that need nothing more: refunded or missing from the parcel."""
        return self.quantity_refunded + self.quantity_missing

    @property
    def quantity_awaiting(self) -> int:
        """Approved units not yet received nor declared missing."""
        return self.quantity_approved - self.quantity_received - self.quantity_missing


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("After-sales events are immutable.")

    def delete(self):
        raise TypeError("After-sales events are immutable.")


class ImmutableEvent(models.Model):
    """Who did something, what they said and when; written once, never changed."""

    actor_type = models.CharField(max_length=16, choices=ActorType.CHOICES)
    # Who acted, as the host names its accounts and apps (empty: nobody).
    user_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    app_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    message = models.TextField(blank=True, default="")
    parameters = JSONField(blank=True, default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ("pk",)

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are immutable.")


class AftersalesEvent(ImmutableEvent):
    """One line of a claim's audit trail: from which status to which."""

    request = models.ForeignKey(
        AftersalesRequest, related_name="events", on_delete=models.CASCADE
    )
    type = models.CharField(max_length=32, choices=EventType.CHOICES)
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16, blank=True, default="")

    class Meta(ImmutableEvent.Meta):
        pass

    @property
    def is_public(self) -> bool:
        return self.type not in EventType.STAFF_ONLY


class AftersalesPhoto(models.Model):
    """Evidence the customer (or the desk) attached to a claim."""

    MAX_PER_CLAIM = 5  # photos one claim holds

    request = models.ForeignKey(
        AftersalesRequest, related_name="photos", on_delete=models.CASCADE
    )
    file = models.FileField(upload_to="aftersales/photos/", max_length=255)
    # Empty on photos kept before thumbnails existed: those show the photo.
    thumbnail = models.FileField(
        upload_to="aftersales/photos/thumbnails/", max_length=255, blank=True
    )
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    actor_type = models.CharField(max_length=16, choices=ActorType.CHOICES)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)


class AftersalesRefund(models.Model):
    """Money sent back for a claim. Written PENDING before the gateway is called."""

    request = models.ForeignKey(
        AftersalesRequest, related_name="refunds", on_delete=models.PROTECT
    )
    # The order's payment it goes back through (the host's id); empty for store
    # credit.
    payment_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    method = models.CharField(
        max_length=16, choices=RefundMethod.CHOICES, default=RefundMethod.REFUND
    )
    status = models.CharField(
        max_length=16, choices=RefundStatus.CHOICES, default=RefundStatus.PENDING
    )
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    goods_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    shipping_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    restocking_fee_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    # {aftersales line pk: units this refund settles}
    line_quantities = JSONField(default=dict)
    idempotency_key = models.CharField(max_length=255, unique=True)
    gateway_reference = models.CharField(max_length=255, blank=True, default="")
    # The refund the shop recorded for it (the host's transaction id).
    transaction_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    # Store credit: the gift card issued (the host's id), and its balance (amount
    # plus any bonus).
    gift_card_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    credit_amount = models.DecimalField(**MONEY, null=True, blank=True)
    # The gateway's refusal once FAILED; while PENDING, the last passing error.
    error = models.TextField(blank=True, default="")
    # Who asked, so that the worker records the outcome in their name.
    created_by_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    actor_type = models.CharField(
        max_length=16, choices=ActorType.CHOICES, default=ActorType.STAFF
    )
    created_by_app_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Paying: one worker at a time holds the lease; attempts count gateway calls.
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("pk",)
        indexes = [
            models.Index(
                fields=["completed_at"],
                condition=Q(status="success"),
                name="aftersales_refund_completed",
            )
        ]
        constraints = [
            models.CheckConstraint(
                check=Q(amount__gt=0), name="aftersales_refund_gt_0"
            ),
            # One refund in flight per claim and per payment: exactly-once holds
            # even where a lock was missed.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="pending"),
                name="aftersales_refund_one_pending_per_request",
            ),
            models.UniqueConstraint(
                fields=["payment_ref"],
                condition=Q(status="pending") & ~Q(payment_ref=""),
                name="aftersales_refund_one_pending_per_payment",
            ),
        ]


class RepairQuote(models.Model):
    """The itemised price of a repair, as shown to the customer line by line."""

    request = models.OneToOneField(
        AftersalesRequest, related_name="quote", on_delete=models.CASCADE
    )
    diagnosis = models.TextField(blank=True, default="")
    under_warranty = models.BooleanField(default=False)
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    total_amount = models.DecimalField(**MONEY)
    accepted = models.BooleanField(null=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    # The unpaid order through which the shop collects an accepted quote.
    order = models.ForeignKey(
        ShopOrder,
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(default=timezone.now)


class RepairQuoteLine(models.Model):
    quote = models.ForeignKey(
        RepairQuote, related_name="lines", on_delete=models.CASCADE
    )
    kind = models.CharField(max_length=8, choices=QuoteLineKind.CHOICES)
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ("pk",)

    @property
    def total_amount(self) -> Decimal:
        return self.unit_price_amount * self.quantity


class ReturnPolicy(models.Model):
    """Return terms of one product type; empty fields follow the shop's settings."""

    product_type_ref = models.CharField(max_length=REF_LENGTH, unique=True)
    final_sale = models.BooleanField(default=False)
    return_window_days = models.PositiveIntegerField(null=True, blank=True)
    changed_mind_window_days = models.PositiveIntegerField(null=True, blank=True)
    exchange_window_days = models.PositiveIntegerField(null=True, blank=True)
    restocking_fee_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    # Returns worth less than this are refunded without the goods coming back.
    returnless_refund_below = models.DecimalField(**MONEY, null=True, blank=True)
    shipping_refundable = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)


class WarrantyPolicy(models.Model):
    """Warranty terms of one product type; others get the plugin's default."""

    product_type_ref = models.CharField(max_length=REF_LENGTH, unique=True)
    months = models.PositiveIntegerField()
    # "24 months or 40,000 km": whichever limit comes first ends the cover.
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_unit = models.CharField(
        max_length=8, choices=UsageUnit.CHOICES, blank=True, default=""
    )


class WarrantyCard(models.Model):
    """One sold unit's warranty: what anyone can verify by its code."""

    code = models.CharField(max_length=16, unique=True)
    order = models.ForeignKey(
        ShopOrder, related_name="warranty_cards", on_delete=models.PROTECT
    )
    order_line = models.ForeignKey(
        ShopOrderLine, related_name="warranty_cards", on_delete=models.PROTECT
    )
    # The shipment line (the host's id) whose unit this is; empty on cards whose
    # shipment was deleted.
    fulfillment_line_ref = models.CharField(
        max_length=REF_LENGTH, blank=True, default=""
    )
    unit_index = models.PositiveSmallIntegerField()
    variant_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    # Snapshots: what verification shows, even after the catalogue changes.
    product_name = models.CharField(max_length=386)
    variant_name = models.CharField(max_length=255, blank=True, default="")
    variant_sku = models.CharField(max_length=255, blank=True, default="")
    serial_number = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_unit = models.CharField(
        max_length=8, choices=UsageUnit.CHOICES, blank=True, default=""
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)
        constraints = [
            # A fulfillment's hook firing twice issues nothing new.
            models.UniqueConstraint(
                fields=["fulfillment_line_ref", "unit_index"],
                condition=~Q(fulfillment_line_ref=""),
                name="warranty_card_one_per_unit",
            )
        ]

    def status_at(self, moment) -> str:
        if self.voided_at is not None:
            return WarrantyStatus.VOID
        return (
            WarrantyStatus.VALID if moment <= self.ends_at else WarrantyStatus.EXPIRED
        )

    def ended_by(self, moment, meter_reading: Optional[int] = None) -> Optional[str]:
        """The limit that ends the cover at ``moment`` (and reading), or None."""
        if self.voided_at is not None:
            return WarrantyEndedBy.VOID
        if moment > self.ends_at:
            return WarrantyEndedBy.DATE
        if (
            self.usage_limit is not None
            and meter_reading is not None
            and meter_reading > self.usage_limit
        ):
            return WarrantyEndedBy.USAGE
        return None


class WarrantyCardEvent(ImmutableEvent):
    card = models.ForeignKey(
        WarrantyCard, related_name="events", on_delete=models.CASCADE
    )
    type = models.CharField(max_length=32, choices=WarrantyEventType.CHOICES)

    class Meta(ImmutableEvent.Meta):
        pass


class WebhookSubscription(models.Model):
    """Where the shop's other systems want to hear about claims and cards."""

    name = models.CharField(max_length=255)
    target_url = models.URLField(max_length=2048)
    secret = models.CharField(max_length=255)
    # Empty: every event.
    event_types = JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("pk",)

    def wants(self, event_type: str) -> bool:
        return self.is_active and (
            not self.event_types or event_type in self.event_types
        )


class WebhookDelivery(models.Model):
    """The outbox: one event for one subscription, written with the transition."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up: the dead letter, until staff redeliver
    STATUS_CHOICES = [
        (PENDING, "Pending"),
        (DELIVERED, "Delivered"),
        (FAILED, "Failed"),
    ]

    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=64)
    subscription = models.ForeignKey(
        WebhookSubscription, related_name="deliveries", on_delete=models.CASCADE
    )
    payload = JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=16, choices=STATUS_CHOICES, default=PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("pk",)
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "subscription"], name="webhook_delivery_unique"
            )
        ]


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, related_name="attempt_log", on_delete=models.CASCADE
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("pk",)


class InboundEvent(models.Model):
    """A signed message received from outside; its id makes it count once."""

    source = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"], name="inbound_event_once"
            )
        ]


class CustomerEmail(models.Model):
    """The shopper e-mail outbox: one row per message, written in the transaction
    of the step (or look-up) that causes it; a Celery task sends it after commit.

    ``key`` makes each message once: ``event:<pk>`` for a claim's step,
    ``link:<nonce>`` for a guest's sign-in link. The content is rendered when it
    is sent, from the event and the claim, in ``language``."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt
    SKIPPED = "skipped"  # the desk switched this kind off
    STATUS_CHOICES = [
        (PENDING, "Pending"),
        (SENT, "Sent"),
        (FAILED, "Failed"),
        (SKIPPED, "Switched off"),
    ]

    key = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=32)
    request = models.ForeignKey(
        AftersalesRequest,
        related_name="emails",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
    )
    event = models.ForeignKey(
        AftersalesEvent,
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    to_email = models.EmailField()
    language = models.CharField(max_length=16)
    status = models.CharField(
        max_length=16, choices=STATUS_CHOICES, default=PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.TextField(blank=True, default="")
    # Fixed before the first attempt: every attempt sends the same Message-ID.
    message_id = models.CharField(max_length=255, blank=True, default="")
    subject = models.CharField(max_length=998, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("pk",)


class CustomerEmailAttempt(models.Model):
    email = models.ForeignKey(
        CustomerEmail, related_name="attempt_log", on_delete=models.CASCADE
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    # The SMTP server's reply code, when it answered.
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("pk",)


class OrderLink(models.Model):
    """A sign-in link sent to a guest order's e-mail: opens that order in the
    portal once, until it expires. Only its nonce is stored; the link is the
    nonce and the order signed with the shop's secret."""

    nonce = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    order = models.ForeignKey(ShopOrder, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


# Per-day rollups for the analytics page -------------------------------------------
#
# Each step adds its claim's change to one row here in its own transaction
# (``rollups``), so a year of figures reads a few hundred rows. A row is keyed by
# the day in the desk's time zone and a shard: concurrent steps write to their
# connection's shard, so no step waits on another's hot row; the reader sums the
# shards. ``aftersales_rollups --rebuild`` recomputes them from the claims.

ROLLUP_SHARDS = 16
# Business time from a claim's opening to its first answer or its conclusion, in
# buckets: a quarter of an hour up to 4 h, an hour up to a day, 6 h up to 3 days,
# a day up to a week, then one to two weeks and beyond. Medians are read within
# the bucket (``rollups.grouped_median``).
DURATION_EDGES = tuple(
    [minutes * 60 for minutes in range(0, 4 * 60 + 1, 15)]
    + [hours * 3600 for hours in range(5, 25)]
    + [hours * 3600 for hours in range(30, 73, 6)]
    + [hours * 3600 for hours in range(96, 169, 24)]
    + [336 * 3600]
)
DURATION_BUCKETS = len(DURATION_EDGES)
RATINGS = (1, 2, 3, 4, 5)


def claim_day_columns():
    """The counters of ``ClaimDay``, in a fixed order."""
    return (
        ["opened"]
        + [f"status_{status}" for status, _label in RequestStatus.CHOICES]
        + [f"units_{reason}" for reason, _label in Reason.CHOICES]
        + [f"rating_{rating}" for rating in RATINGS]
        + ["sla_decided", "sla_met"]
        + [f"response_{i:02d}" for i in range(DURATION_BUCKETS)]
        + [f"resolution_{i:02d}" for i in range(DURATION_BUCKETS)]
    )


class ClaimDay(models.Model):
    """Claims opened on ``day`` of one type in one channel: how many, where they
    stand, units per reason, ratings, service levels met among those concluded,
    and their business-time durations by bucket."""

    day = models.DateField()
    type = models.CharField(max_length=16, choices=RequestType.CHOICES)
    channel = models.CharField(max_length=64, blank=True, default="")
    shard = models.SmallIntegerField(default=0)

    for _column in claim_day_columns():
        locals()[_column] = models.IntegerField(default=0)
    del _column

    class Meta:
        db_table = "aftersales_claim_day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "type", "channel", "shard"],
                name="aftersales_claim_day_key",
            )
        ]


class ProductDay(models.Model):
    """Per product, for orders placed on ``day``: units sold (fulfilled) and the
    units returns and exchanges hold, for return rates."""

    day = models.DateField()
    product_ref = models.CharField(max_length=REF_LENGTH, blank=True, default="")
    channel = models.CharField(max_length=64, blank=True, default="")
    shard = models.SmallIntegerField(default=0)
    product_name = models.CharField(max_length=386, blank=True, default="")
    units_sold = models.IntegerField(default=0)
    units_returned = models.IntegerField(default=0)
    units_exchanged = models.IntegerField(default=0)

    class Meta:
        db_table = "aftersales_product_day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "product_ref", "channel", "shard"],
                name="aftersales_product_day_key",
            )
        ]


class RefundDay(models.Model):
    """Refunds completed on ``day``, per claim type, channel, currency and method."""

    day = models.DateField()
    type = models.CharField(max_length=16, choices=RequestType.CHOICES)
    channel = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=CURRENCY_LENGTH)
    method = models.CharField(max_length=16, choices=RefundMethod.CHOICES)
    shard = models.SmallIntegerField(default=0)
    refunds = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=Decimal(0))

    class Meta:
        db_table = "aftersales_refund_day"
        constraints = [
            models.UniqueConstraint(
                fields=["day", "type", "channel", "currency", "method", "shard"],
                name="aftersales_refund_day_key",
            )
        ]


class RollupState(models.Model):
    """One row: the desk's time zone the rollups' days are in, and when they were
    last rebuilt. No row, or another zone than the desk's: rebuild before reading."""

    time_zone = models.CharField(max_length=64)
    rebuilt_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "aftersales_rollup_state"
