"""The port (``port.Shop``) on Saleor 2.10: its models, order timeline, payment
gateway, stock and plugin manager, in the caller's database transaction; and the
building blocks the plugin's GraphQL schema is made of (Saleor's own base classes),
so the schema behaves as Saleor's does.

References the core keeps are Saleor's primary keys as text (``ref``/``pk_of``).
"""

import logging
from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Tuple

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.db.models import OuterRef, Subquery

# Models -------------------------------------------------------------------------
from saleor.account.models import User  # noqa: F401
from saleor.app.models import App  # noqa: F401
from saleor.celeryconf import app as celery_app  # noqa: E402,F401
from saleor.core.exceptions import InsufficientStock  # noqa: F401
from saleor.core.permissions import AccountPermissions, AppPermission, OrderPermissions
from saleor.core.utils.promo_code import generate_promo_code
from saleor.giftcard.models import GiftCard  # noqa: F401
from saleor.order import FulfillmentStatus, OrderStatus  # noqa: F401
from saleor.order import events as order_events
from saleor.order import OrderEvents
from saleor.order.models import Fulfillment, FulfillmentLine, Order, OrderLine  # noqa
from saleor.order.models import OrderEvent
from saleor.payment import ChargeStatus, PaymentError, TransactionKind  # noqa: F401
from saleor.payment import gateway as payment_gateway
from saleor.payment import utils as payment_utils
from saleor.payment.models import Payment, Transaction  # noqa: F401
from saleor.plugins.base_plugin import BasePlugin, ConfigurationTypeField  # noqa
from saleor.plugins.manager import get_plugins_manager
from saleor.product.models import Product, ProductType, ProductVariant  # noqa: F401
from saleor.warehouse.models import Allocation, Stock, Warehouse  # noqa: F401

from ...port import LineFacts, NewOrderLine, OrderFacts, ShippedUnits, address_lines

logger = logging.getLogger(__name__)

MANAGE_ORDERS = OrderPermissions.MANAGE_ORDERS
MANAGE_APPS = AppPermission.MANAGE_APPS

# Payments whose money was taken and can (partly) go back.
REFUNDABLE_CHARGE_STATUSES = (
    ChargeStatus.FULLY_CHARGED,
    ChargeStatus.PARTIALLY_CHARGED,
    ChargeStatus.PARTIALLY_REFUNDED,
)


# Saleor's Celery app, for the plugin's tasks.

# One quick try at the broker. Kombu's default is to retry a connection for ever,
# which would hold the request that queued the task for as long as Redis is down;
# what the task does is committed first, and beat's sweepers send it later.
BROKER_TRIES = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
BROKER_TIMEOUT = 3  # seconds, for a broker that neither answers nor refuses


def queue_options() -> dict:
    """The queue the plugin's tasks go to (AFTERSALES_CELERY_QUEUE), if one is set;
    named on every send so that retries sent from a worker land there too."""
    queue = getattr(django_settings, "AFTERSALES_CELERY_QUEUE", None)
    return {"queue": queue} if queue else {}


def send_task(name: str, args: tuple, countdown: float = 0) -> None:
    """Queue the plugin's task ``name``; raises kombu's OperationalError at once if
    the broker is down (callers log it and leave the work to the sweepers)."""
    task = celery_app.tasks[name]
    if celery_app.conf.task_always_eager:
        task.apply_async(args, countdown=countdown, **queue_options())
        return
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(**BROKER_TRIES, timeout=BROKER_TIMEOUT)
        task.apply_async(
            args,
            countdown=countdown,
            connection=connection,
            retry_policy=BROKER_TRIES,
            **queue_options(),
        )


# Telling Saleor: what the plugin did to an order is written as Saleor's own order
# events in the step's transaction, and Saleor's plugins (its webhooks among them)
# hear of it through the plugin manager once that transaction has committed, as
# Saleor's own mutations tell them.


# Saleor's plugins run in a Celery task of ours: their own sends (Saleor's webhook
# plugin queues its deliveries) would otherwise retry a dead broker for ever in the
# middle of a desk's step.
TELL_SALEOR = "saleor_aftersales.tell_saleor"


def _tell_plugins(hook: str, order_pk: int) -> None:
    def queue():
        try:
            send_task(TELL_SALEOR, (hook, order_pk))
        except Exception:  # noqa: BLE001 - the step is committed; Saleor isn't told
            logger.exception("Could not tell Saleor's plugins %s of %s", hook, order_pk)

    transaction.on_commit(queue)


@celery_app.task(name=TELL_SALEOR, ignore_result=True)
def run_plugin_hook(hook: str, order_pk: int) -> None:
    """The task's body: Saleor's plugin manager hears ``hook`` for the order."""
    order = Order.objects.filter(pk=order_pk).first()
    if order is not None:
        getattr(get_plugins_manager(), hook)(order)


def order_changed(order_ref: str) -> None:
    """Saleor's ``order_updated`` hook, after commit."""
    _tell_plugins("order_updated", pk_of(order_ref))


def order_refunded(payment: Payment, amount: Decimal, user: Optional[User]) -> None:
    """Money went back on ``payment``: Saleor's PAYMENT_REFUNDED event and its
    ``order_updated`` hook, as Saleor's orderRefund does."""
    order = Order.objects.get(pk=payment.order_id)
    order_events.payment_refunded_event(
        order=order, user=user, amount=amount, payment=payment
    )
    _tell_plugins("order_updated", order.pk)


def order_timeline_note(
    order_ref: str, user: Optional[User], message: str, customer_ref: str = ""
) -> None:
    """Mirror claim activity into Saleor's order history (its enum can't grow),
    as Saleor's order_note_added_event writes it; a note by the order's own
    customer also goes to their account's history, as there."""
    if user is not None and customer_ref and ref(user.pk) == customer_ref:
        order = Order.objects.get(pk=pk_of(order_ref))
        order_events.order_note_added_event(order=order, user=user, message=message)
        return
    OrderEvent.objects.create(
        order_id=pk_of(order_ref),
        type=OrderEvents.NOTE_ADDED,
        user=user,
        parameters={"message": message},
    )


def refundable_payment(order_ref: str, *, lock: bool = False) -> Optional[Payment]:
    """The order's latest active payment that still holds captured money (with
    ``lock``: under a row lock, read in the same query)."""
    payments = Payment.objects.select_for_update() if lock else Payment.objects
    return (
        payments.filter(
            order_id=pk_of(order_ref),
            is_active=True,
            charge_status__in=REFUNDABLE_CHARGE_STATUSES,
            captured_amount__gt=0,
        )
        .order_by("-pk")
        .first()
    )


def lock_payment(payment_ref: str) -> Payment:
    return Payment.objects.select_for_update().get(pk=pk_of(payment_ref))


def payment_ref(payment: Payment) -> str:
    return ref(payment.pk)


def refund_payment(payment: Payment, amount: Decimal) -> Transaction:
    """Send money back through the order's own gateway plugin (Dummy, Stripe, ...).

    Saleor writes the REFUND transaction and updates ``captured_amount`` and
    ``charge_status``; a refusal raises ``PaymentError``.
    """
    return payment_gateway.refund(payment, amount)


def issue_gift_card(
    user: Optional[User], amount: Decimal, currency: str, end_date=None
) -> GiftCard:
    """A Saleor gift card the customer spends at checkout like any other."""
    return GiftCard.objects.create(
        code=generate_promo_code(),
        user=user,
        end_date=end_date,
        currency=currency,
        initial_balance_amount=amount,
        current_balance_amount=amount,
    )


def gift_card_code(reference: str) -> str:
    card = GiftCard.objects.filter(pk=pk_of(reference)).only("code").first()
    return card.code if card else ""


STORE_CREDIT_METADATA_KEY = "aftersales_store_credit"


def note_store_credit(order_ref: str, amount: Decimal, currency: str) -> None:
    """Saleor's refund screens only see the payment's captured amount, which store
    credit leaves alone: keep a running total, per currency, in the order's private
    metadata where staff see it."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .only("pk", "private_metadata")
        .get(pk=pk_of(order_ref))
    )
    totals = dict(
        order.get_value_from_private_metadata(STORE_CREDIT_METADATA_KEY) or {}
    )
    totals[currency] = str(Decimal(totals.get(currency, "0")) + amount)
    order.store_value_in_private_metadata({STORE_CREDIT_METADATA_KEY: totals})
    order.save(update_fields=["private_metadata"])


STRIPE_GATEWAY = "mirumee.payments.stripe"


def stripe_secret_key() -> str:
    """The secret key of Saleor's own Stripe plugin: refunds use the shop's account."""
    return str(plugin_configuration(STRIPE_GATEWAY).get("Secret API key") or "")


def stripe_payment_intent(payment: Payment) -> str:
    """The PaymentIntent behind a Stripe payment: Saleor keeps it as the token of
    the successful capture (``payment.token`` is the payment method)."""
    capture = (
        payment.transactions.filter(kind=TransactionKind.CAPTURE, is_success=True)
        .order_by("-pk")
        .first()
    )
    return capture.token if capture else ""


def stripe_payment_by_intent(intent_id: str) -> Optional[Payment]:
    if not intent_id:
        return None
    return (
        Payment.objects.filter(
            gateway=STRIPE_GATEWAY,
            transactions__kind=TransactionKind.CAPTURE,
            transactions__is_success=True,
            transactions__token=intent_id,
        )
        .order_by("-pk")
        .first()
    )


def record_gateway_refund(
    payment: Payment, amount: Decimal, reference: str, raw: dict
) -> Transaction:
    """Write a refund paid outside Saleor's gateway code exactly as that code would:
    a successful REFUND transaction, then Saleor's own post-processing of the
    payment (captured amount, charge status). Call with the payment locked."""
    transaction = Transaction.objects.create(
        payment=payment,
        kind=TransactionKind.REFUND,
        token=reference,
        is_success=True,
        amount=amount,
        currency=payment.currency,
        gateway_response=raw,
    )
    payment_utils.gateway_postprocess(transaction, payment)
    return transaction


def refund_transaction_since(
    payment: Payment, since, amount: Decimal, exclude: Iterable[int] = ()
) -> Optional[Transaction]:
    """A successful refund Saleor recorded on ``payment`` after ``since`` and not
    accounted to another row: what an interrupted attempt left behind (one refund
    is in flight per payment)."""
    return (
        payment.transactions.filter(
            kind=TransactionKind.REFUND,
            is_success=True,
            created__gte=since,
            amount=amount,
        )
        .exclude(pk__in=[pk_of(reference) for reference in exclude])
        .order_by("pk")
        .first()
    )


def saleor_recorded_stripe_refund(
    payment: Payment, refund_id: str, amount: Decimal, exclude: Iterable[int] = ()
) -> bool:
    """Whether Saleor's own Stripe gateway already wrote this refund (it stores the
    intent's id, not the refund's, as the transaction token)."""
    return (
        payment.transactions.filter(
            kind=TransactionKind.REFUND,
            is_success=True,
            amount=amount,
            token__in=[refund_id, stripe_payment_intent(payment)],
        )
        .exclude(pk__in=[pk_of(reference) for reference in exclude])
        .exists()
    )


# What the core keeps of Saleor's orders ------------------------------------------------


def ref(pk: Optional[int]) -> str:
    """A Saleor 2.10 primary key as the core stores host ids: text, empty for none."""
    return "" if pk is None else str(pk)


def pk_of(reference: str) -> Optional[int]:
    """The primary key behind a host id the core kept (None for none)."""
    return int(reference) if reference and reference.isdigit() else None


def order_facts(order: Order) -> OrderFacts:
    """The order as the core copies it: two queries (the order is given)."""
    latest_shipment = (
        FulfillmentLine.objects.filter(
            order_line_id=OuterRef("pk"),
            fulfillment__status=FulfillmentStatus.FULFILLED,
        )
        .order_by("-fulfillment__created")
        .values("fulfillment__created")[:1]
    )
    rows = (
        OrderLine.objects.filter(order_id=order.pk)
        .annotate(fulfilled_at=Subquery(latest_shipment))
        .order_by("pk")
        .values_list(
            "pk",
            "variant_id",
            "variant__product_id",
            "variant__product__product_type_id",
            "product_name",
            "variant_name",
            "product_sku",
            "quantity",
            "quantity_fulfilled",
            "unit_price_gross_amount",
            "fulfilled_at",
        )
    )
    lines = tuple(
        LineFacts(
            host_id=ref(pk),
            variant_ref=ref(variant_pk),
            product_ref=ref(product_pk),
            product_type_ref=ref(type_pk),
            product_name=product_name,
            variant_name=variant_name or "",
            sku=sku or "",
            quantity=quantity,
            quantity_fulfilled=fulfilled,
            unit_price_gross=price,
            fulfilled_at=fulfilled_at,
        )
        for (
            pk,
            variant_pk,
            product_pk,
            type_pk,
            product_name,
            variant_name,
            sku,
            quantity,
            fulfilled,
            price,
            fulfilled_at,
        ) in rows
    )
    return _facts(order, lines)


def _facts(order: Order, lines: Tuple[LineFacts, ...]) -> OrderFacts:
    return OrderFacts(
        host_id=ref(order.pk),
        number=str(order.pk),
        status=order.status,
        user_email=order.user_email or "",
        customer_ref=ref(order.user_id),
        # Only a guest's order is opened by its token.
        guest_token="" if order.user_id else str(order.token),
        currency=order.currency,
        total_gross=order.total_gross_amount,
        shipping_gross=order.shipping_price_gross_amount,
        placed_at=order.created,
        lines=lines,
    )


def shipped_units(fulfillment_lines) -> List[ShippedUnits]:
    return [
        ShippedUnits(
            host_id=ref(line.pk),
            order_line_ref=ref(line.order_line_id),
            quantity=line.quantity,
            shipped_at=line.fulfillment.created,
        )
        for line in fulfillment_lines
    ]


def _one(queryset, reference: str):
    """The row behind one reference, or None."""
    pk = pk_of(reference)
    return None if pk is None else queryset.filter(pk=pk).first()


def _by_ref(queryset, references: Iterable[str]) -> dict:
    """The rows behind these references (one query), by reference."""
    pks = {pk for pk in map(pk_of, references) if pk is not None}
    return {ref(row.pk): row for row in queryset.filter(pk__in=pks)}


def order_by_ref(reference: str) -> Optional[Order]:
    return _one(Order.objects, reference)


def orders_by_ref(references: Iterable[str]) -> Dict[str, Order]:
    return _by_ref(Order.objects, references)


def order_lines_by_ref(references: Iterable[str]) -> Dict[str, OrderLine]:
    return _by_ref(OrderLine.objects, references)


def user_ref(user: Optional[User]) -> str:
    """The core's reference to an account, a customer's or staff's ("" for none)."""
    return ref(user.pk) if user is not None else ""


def app_ref(app: Optional[App]) -> str:
    return ref(app.pk) if app is not None else ""


def user_by_ref(reference: str) -> Optional[User]:
    return _one(User.objects, reference)


def app_by_ref(reference: str) -> Optional[App]:
    return _one(App.objects, reference)


def users_by_ref(references: Iterable[str]) -> Dict[str, User]:
    return _by_ref(User.objects, references)


def variants_by_ref(references: Iterable[str]) -> Dict[str, ProductVariant]:
    """Variants with their products (one query), by reference."""
    return _by_ref(ProductVariant.objects.select_related("product"), references)


def product_types_by_ref(references: Iterable[str]) -> Dict[str, ProductType]:
    return _by_ref(ProductType.objects, references)


def payment_by_ref(reference: str) -> Optional[Payment]:
    return _one(Payment.objects, reference)


def gift_cards_by_ref(references: Iterable[str]) -> Dict[str, GiftCard]:
    return _by_ref(GiftCard.objects, references)


def goods_received(
    order_ref: str,
    *,
    returned: Dict[str, int],
    restock: Dict[str, int],
    warehouse: Optional[Warehouse],
    user: Optional[User] = None,
) -> None:
    """Saleor 2.10 has no record of returned shipments: only the units that go
    back to stock change anything here."""
    if restock:
        _restock(restock, warehouse, order_ref=order_ref, user=user)


def _restock(
    variant_quantities: Dict[str, int],
    warehouse: Warehouse,
    *,
    order_ref: str,
    user: Optional[User] = None,
) -> None:
    """Put returned units of the order back into ``warehouse`` (a few queries
    whatever the lines), with Saleor's FULFILLMENT_RESTOCKED_ITEMS event;
    ``variant_quantities`` maps the variants' references to units."""
    variant_quantities = {
        pk_of(variant_ref): qty for variant_ref, qty in variant_quantities.items()
    }
    if not variant_quantities:
        return
    OrderEvent.objects.create(
        order_id=pk_of(order_ref),
        type=OrderEvents.FULFILLMENT_RESTOCKED_ITEMS,
        user=user,
        parameters={
            "quantity": sum(variant_quantities.values()),
            "warehouse": warehouse.pk,
        },
    )
    order_changed(order_ref)
    # Rows the warehouse lacks are created empty, for variants that still exist;
    # existing ones are left alone.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Stock._meta.db_table} "
            "(warehouse_id, product_variant_id, quantity) "
            f"SELECT %s, id, 0 FROM {ProductVariant._meta.db_table} "
            "WHERE id = ANY(%s) "
            "ON CONFLICT (warehouse_id, product_variant_id) DO NOTHING",
            [warehouse.pk, sorted(variant_quantities)],
        )
    Stock.objects.filter(
        warehouse=warehouse, product_variant_id__in=variant_quantities
    ).update(
        quantity=F("quantity")
        + Case(
            *[
                When(product_variant_id=pk, then=Value(qty))
                for pk, qty in variant_quantities.items()
            ],
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def default_return_warehouse(order_line_refs: Iterable[str]) -> Optional[Warehouse]:
    """The warehouse the goods were shipped from, else the first one."""
    stock = (
        FulfillmentLine.objects.filter(
            order_line_id__in=[pk_of(line_ref) for line_ref in order_line_refs],
            stock__isnull=False,
        )
        .select_related("stock__warehouse")
        .order_by("pk")
        .first()
    )
    if stock is not None:
        return stock.stock.warehouse
    return Warehouse.objects.order_by("pk").first()


def return_address(order_line_refs: Iterable[str]) -> List[str]:
    """The address of the warehouse the goods go back to (``Warehouse.address``
    of ``default_return_warehouse``); none when the shop has no warehouse."""
    warehouse = default_return_warehouse(order_line_refs)
    if warehouse is None:
        return []
    address = warehouse.address
    person = " ".join(p for p in (address.first_name, address.last_name) if p)
    return address_lines(
        name=warehouse.company_name or address.company_name or warehouse.name,
        person=person,
        street=(address.street_address_1, address.street_address_2),
        postal_code=address.postal_code,
        city=address.city,
        city_area=address.city_area,
        country_area=address.country_area,
        country=address.country.name if address.country else "",
    )


def existing_product_refs(product_refs: Iterable[str]) -> set:
    """Which of these products still exist."""
    return set(_by_ref(Product.objects.only("pk"), product_refs))


def fulfillment_lines_of(fulfillment: Fulfillment):
    return FulfillmentLine.objects.filter(fulfillment=fulfillment).select_related(
        "fulfillment"
    )


def fulfillment_lines():
    """Every shipped fulfillment line, ready for issuing cards (the backfill's
    source); cancelled fulfillments are left out."""
    return (
        FulfillmentLine.objects.filter(fulfillment__status=FulfillmentStatus.FULFILLED)
        .select_related("fulfillment", "order_line__order")
        .order_by("pk")
    )


def product_type_refs(slug: str) -> List[str]:
    return [
        ref(pk)
        for pk in ProductType.objects.filter(slug=slug).values_list("pk", flat=True)
    ]


def is_fully_paid(order_ref: str) -> bool:
    order = order_by_ref(order_ref)
    return order is not None and order.is_fully_paid()


def available_stock(variant_refs: Iterable[str]) -> Dict[str, int]:
    """Sellable units per variant over all warehouses (stock minus allocations)."""
    rows = (
        Stock.objects.filter(
            product_variant_id__in=[pk_of(variant) for variant in variant_refs]
        )
        .annotate_available_quantity()
        .values_list("product_variant_id", "available_quantity")
    )
    available: Dict[str, int] = {}
    for variant_pk, quantity in rows:
        key = ref(variant_pk)
        available[key] = available.get(key, 0) + max(0, quantity)
    return available


def variant_unit_price(variant: ProductVariant) -> Decimal:
    return (
        variant.price_override_amount
        if variant.price_override_amount is not None
        else variant.product.price_amount
    )


def allocate_lines(order_lines: List[OrderLine], country_code: str) -> None:
    """Saleor's allocation (stock reserved per warehouse that ships to the
    country, lowest pk first) for many lines in three queries, not three per line."""
    if not order_lines:
        return
    stocks = Stock.objects.select_for_update(of=("self",)).filter(
        product_variant_id__in={line.variant_id for line in order_lines}
    )
    if country_code:
        stocks = stocks.for_country(country_code)
    stocks = list(stocks.order_by("pk"))
    allocated = dict(
        Allocation.objects.filter(stock__in=stocks)
        .order_by()  # else Django 3.0 groups by Allocation's ordering (pk) too
        .values("stock")
        .annotate(total=Sum("quantity_allocated"))
        .values_list("stock", "total")
    )
    free = {stock.pk: stock.quantity - allocated.get(stock.pk, 0) for stock in stocks}
    allocations = []
    for line in order_lines:
        wanted = line.quantity
        for stock in stocks:
            if stock.product_variant_id != line.variant_id or wanted == 0:
                continue
            take = min(wanted, max(0, free[stock.pk]))
            if take:
                free[stock.pk] -= take
                wanted -= take
                allocations.append(
                    Allocation(order_line=line, stock=stock, quantity_allocated=take)
                )
        if wanted:
            raise InsufficientStock(line.variant)
    Allocation.objects.bulk_create(allocations)


def create_follow_up_order(
    source_ref: str,
    lines: List[NewOrderLine],
    *,
    discount: Decimal = Decimal("0"),
    discount_name: str = "",
    note: str = "",
    allocate: bool = True,
) -> OrderFacts:
    """A real, unpaid Saleor order for the same customer and addresses: a
    replacement to ship or a repair to pay. Stock is allocated for variant lines;
    the shop's normal payment and fulfillment flows take it from there. Returns
    the new order's facts, for the core's copy."""
    source = Order.objects.select_related("billing_address", "shipping_address").get(
        pk=pk_of(source_ref)
    )
    subtotal = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    total = max(Decimal("0"), subtotal - discount)
    order = Order.objects.create(
        user_id=source.user_id,
        user_email=source.user_email,
        status=OrderStatus.UNFULFILLED,
        currency=source.currency,
        billing_address=(
            source.billing_address.get_copy() if source.billing_address_id else None
        ),
        shipping_address=(
            source.shipping_address.get_copy()
            if source.shipping_address_id and allocate
            else None
        ),
        shipping_method_name=source.shipping_method_name if allocate else None,
        shipping_price_net_amount=Decimal("0"),
        shipping_price_gross_amount=Decimal("0"),
        discount_amount=subtotal - total,
        discount_name=discount_name,
        total_net_amount=total,
        total_gross_amount=total,
        customer_note=note,
    )
    order_lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                variant=line.variant,
                product_name=line.product_name,
                variant_name=line.variant_name,
                product_sku=line.sku,
                is_shipping_required=line.variant is not None,
                quantity=line.quantity,
                currency=source.currency,
                unit_price_net_amount=line.unit_price,
                unit_price_gross_amount=line.unit_price,
            )
            for line in lines
        ]
    )
    if allocate:
        country = order.shipping_address.country.code if order.shipping_address else ""
        allocate_lines([line for line in order_lines if line.variant_id], country)
    if note:
        order_timeline_note(ref(order.pk), None, note)
    # As Saleor's draftOrderComplete tells it: placed by the shop (a PLACED_FROM_DRAFT
    # event) and, after commit, the plugins' order_created hook.
    order_events.order_created_event(order=order, user=None, from_draft=True)
    _tell_plugins("order_created", order.pk)
    return _new_order_facts(order, order_lines)


def _new_order_facts(order: Order, order_lines: List[OrderLine]) -> OrderFacts:
    """The facts of an order just created here, without reading it back."""
    return _facts(
        order,
        tuple(
            LineFacts(
                host_id=ref(line.pk),
                variant_ref=ref(line.variant_id),
                product_ref=ref(line.variant.product_id) if line.variant else "",
                product_type_ref=(
                    ref(line.variant.product.product_type_id) if line.variant else ""
                ),
                product_name=line.product_name,
                variant_name=line.variant_name or "",
                sku=line.product_sku or "",
                quantity=line.quantity,
                quantity_fulfilled=0,
                unit_price_gross=line.unit_price_gross_amount,
            )
            for line in order_lines
        ),
    )


def shop_domain() -> str:
    from django.contrib.sites.models import Site

    return Site.objects.get_current().domain


def shop_key() -> str:
    """The plugin serves the one shop it runs in."""
    return ""


def plugin_configuration(plugin_id: str) -> Dict[str, object]:
    """The plugin's configuration as Saleor stores it (defaults when never saved)."""
    plugin = get_plugins_manager().get_plugin(plugin_id)
    if plugin is None:
        return {}
    return {item["name"]: item["value"] for item in plugin.configuration}


def save_plugin_configuration(plugin_id: str, values: Dict[str, object]) -> None:
    """Through Saleor's plugin manager, as its pluginUpdate mutation does."""
    get_plugins_manager().save_plugin_configuration(
        plugin_id,
        {"configuration": [{"name": n, "value": v} for n, v in values.items()]},
    )


def order_by_number_and_email(number: str, email: str) -> Optional[Order]:
    """A guest's own order, found the way a shop's "find my order" form does.

    Only guest orders (no account) that were placed: an account's orders are
    reached by signing in, so for them this answers None, as for no order at all.
    """
    number = (number or "").strip().lstrip("#")
    email = (email or "").strip()
    # ASCII digits only: "²" is a digit to str.isdigit() and no number to int().
    if not (number.isascii() and number.isdigit()) or len(number) > 12 or not email:
        return None
    return (
        Order.objects.filter(
            pk=int(number), user_email__iexact=email, user_id__isnull=True
        )
        .exclude(status=OrderStatus.DRAFT)
        .first()
    )


def staff_user_by_email(email: str) -> Optional[User]:
    if not email:
        return None
    return User.objects.filter(
        email__iexact=email, is_staff=True, is_active=True
    ).first()


def actor_of(user, app) -> Tuple[Optional[User], Optional[App]]:
    """Normalise request.user / request.app into model instances or None."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    # Saleor sets request.app to a lazy object that may wrap None.
    return user, (app if app else None)


def may_see_account(viewer: Optional[User], account: Optional[User]) -> bool:
    """Saleor's rule for showing a User: oneself, or staff managing users/staff."""
    if viewer is None or account is None:
        return False
    return (
        viewer.pk == account.pk
        or viewer.has_perm(AccountPermissions.MANAGE_USERS)
        or viewer.has_perm(AccountPermissions.MANAGE_STAFF)
    )


def has_permission(user: Optional[User], app: Optional[App], permission) -> bool:
    if user is not None and user.is_active and user.has_perm(permission):
        return True
    return app is not None and app.is_active and app.has_perm(permission)


def has_manage_orders(user: Optional[User], app: Optional[App]) -> bool:
    return has_permission(user, app, MANAGE_ORDERS)
