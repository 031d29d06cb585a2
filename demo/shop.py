"""Builds shop data the way Saleor itself does: real catalogue rows, orders with
lines, payments authorized and captured through Saleor's Dummy gateway, and
fulfillments made by Saleor's own ``create_fulfillments`` (stock goes down).

Used by the demo command and by the tests; not part of the plugin.
"""

import uuid
from decimal import Decimal
from typing import List, Sequence, Tuple

import stripe
from django.contrib.auth.models import Permission
from django.utils.text import slugify
from saleor.account.models import Address, User
from saleor.order import OrderStatus
from saleor.order.actions import create_fulfillments
from saleor.order.models import Order, OrderLine
from saleor.payment import ChargeStatus, TransactionKind, gateway
from saleor.payment.gateways.stripe.utils import get_amount_for_stripe
from saleor.payment.models import Transaction
from saleor.payment.utils import create_payment
from saleor.product.models import Category, Product, ProductType, ProductVariant
from saleor.shipping.models import ShippingZone
from saleor.warehouse.models import Stock, Warehouse

DUMMY_GATEWAY = "mirumee.payments.dummy"
STRIPE_GATEWAY = "mirumee.payments.stripe"


def make_address(**fields) -> Address:
    data = dict(
        first_name="Ada",
        last_name="Lovelace",
        street_address_1="1 Analytical Way",
        city="LONDON",
        postal_code="EC1A 1BB",
        country="GB",
    )
    data.update(fields)
    return Address.objects.create(**data)


def make_customer(email: str, password: str = "password") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password)
        user.default_billing_address = user.default_shipping_address = make_address()
        user.save()
    return user


def make_staff(email: str, password: str = "password", manage_orders=True) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, is_staff=True)
    if manage_orders:
        user.user_permissions.add(
            Permission.objects.get(
                codename="manage_orders", content_type__app_label="order"
            )
        )
    return user


def make_warehouse(name: str = "Returns hub") -> Warehouse:
    """A warehouse that ships to the UK, the US and the EU's big markets."""
    warehouse = Warehouse.objects.create(
        name=name,
        slug=f"{slugify(name)}-{uuid.uuid4().hex[:6]}",
        company_name="Aftersales Ltd",
        address=make_address(),
        email="warehouse@example.com",
    )
    zone = ShippingZone.objects.create(
        name=f"{name} zone", countries=["GB", "US", "DE", "FR", "PL"]
    )
    warehouse.shipping_zones.add(zone)
    return warehouse


def make_variants(
    count: int,
    warehouse: Warehouse,
    price: Decimal = Decimal("10.00"),
    stock: int = 100,
) -> List[ProductVariant]:
    """One product with ``count`` variants, each stocked in ``warehouse``."""
    tag = uuid.uuid4().hex[:8]
    product_type = ProductType.objects.create(
        name=f"Gear {tag}", slug=f"gear-{tag}", has_variants=True
    )
    category = Category.objects.create(name=f"Gear {tag}", slug=f"gear-{tag}")
    product = Product.objects.create(
        product_type=product_type,
        category=category,
        name=f"Trail shoe {tag}",
        slug=f"trail-shoe-{tag}",
        price_amount=price,
        minimal_variant_price_amount=price,
        is_published=True,
    )
    variants = ProductVariant.objects.bulk_create(
        [
            ProductVariant(
                product=product,
                sku=f"{tag}-{index}",
                name=f"Size {36 + index}",
                price_override_amount=price,
                cost_price_amount=price / 2,
            )
            for index in range(count)
        ]
    )
    Stock.objects.bulk_create(
        [
            Stock(warehouse=warehouse, product_variant=v, quantity=stock)
            for v in variants
        ]
    )
    return variants


def unit_price(variant: ProductVariant) -> Decimal:
    if variant.price_override_amount is not None:
        return variant.price_override_amount
    return variant.product.price_amount


def place_order(
    customer: User,
    lines: Sequence[Tuple[ProductVariant, int]],
    shipping: Decimal = Decimal("5.00"),
    guest_email: str = "",
) -> Order:
    """An unfulfilled, unpaid order as checkout leaves it."""
    currency = "USD"
    subtotal = sum(
        (unit_price(variant) * quantity for variant, quantity in lines), Decimal("0")
    )
    total = subtotal + shipping
    order = Order.objects.create(
        user=None if guest_email else customer,
        user_email=guest_email or customer.email,
        status=OrderStatus.UNFULFILLED,
        currency=currency,
        billing_address=make_address(),
        shipping_address=make_address(),
        shipping_method_name="Courier",
        shipping_price_net_amount=shipping,
        shipping_price_gross_amount=shipping,
        total_net_amount=total,
        total_gross_amount=total,
    )
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                variant=variant,
                product_name=variant.product.name,
                variant_name=variant.name,
                product_sku=variant.sku,
                is_shipping_required=True,
                quantity=quantity,
                currency=currency,
                unit_price_net_amount=unit_price(variant),
                unit_price_gross_amount=unit_price(variant),
            )
            for variant, quantity in lines
        ]
    )
    return order


def pay_with_dummy(order: Order):
    """Authorize and capture the order's total through Saleor's Dummy gateway."""
    payment = create_payment(
        gateway=DUMMY_GATEWAY,
        total=order.total_gross_amount,
        currency=order.currency,
        email=order.user_email,
        payment_token=f"dummy-{uuid.uuid4().hex}",
        order=order,
    )
    gateway.authorize(payment, payment.token)
    gateway.capture(payment)
    payment.refresh_from_db()
    return payment


def pay_with_stripe(order: Order, secret_key: str, card="4242424242424242"):
    """Pay the order's total with a card through Stripe's API, and record it the way
    Saleor's Stripe gateway records an automatically captured PaymentIntent (token:
    the payment method; the CAPTURE transaction's token: the intent).

    Saleor 2.10's gateway creates intents with parameters localstripe refuses
    (``confirmation_method``, ``setup_future_usage``), so the intent is made here.
    """
    method = stripe.PaymentMethod.create(
        type="card",
        card={"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        api_key=secret_key,
    )
    total = order.total_gross_amount
    intent = stripe.PaymentIntent.create(
        amount=get_amount_for_stripe(total, order.currency),
        currency=order.currency.lower(),
        payment_method=method.id,
        capture_method="automatic",
        api_key=secret_key,
    ).confirm()
    assert intent.status == "succeeded", intent.status
    payment = create_payment(
        gateway=STRIPE_GATEWAY,
        total=total,
        currency=order.currency,
        email=order.user_email,
        payment_token=method.id,
        order=order,
    )
    Transaction.objects.create(
        payment=payment,
        kind=TransactionKind.CAPTURE,
        token=intent.id,
        is_success=True,
        amount=total,
        currency=order.currency,
        gateway_response=intent.to_dict_recursive(),
    )
    payment.captured_amount = total
    payment.charge_status = ChargeStatus.FULLY_CHARGED
    payment.save(update_fields=["captured_amount", "charge_status"])
    return payment


def fulfill(order: Order, staff: User, warehouse: Warehouse, quantities=None):
    """Ship the order's lines (all of them unless ``quantities`` says otherwise)."""
    lines = list(order.lines.all())
    wanted = [
        {"order_line": line, "quantity": (quantities or {}).get(line.pk, line.quantity)}
        for line in lines
    ]
    create_fulfillments(staff, order, {warehouse.pk: wanted}, notify_customer=False)
    order.refresh_from_db()
    return order


def fulfilled_paid_order(customer, staff, warehouse, lines, **kwargs) -> Order:
    order = place_order(customer, lines, **kwargs)
    pay_with_dummy(order)
    return fulfill(order, staff, warehouse)
