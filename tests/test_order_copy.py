"""The core's copy of the shop's orders: filled from the host's facts, kept current
by Saleor's hooks, and made for every existing order by the migration, so claims and
cards read it instead of Saleor's tables."""

from dataclasses import replace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from saleor.order.models import FulfillmentLine

from demo import shop
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import (
    AftersalesLine,
    AftersalesRequest,
    ShopOrder,
    ShopOrderLine,
    WarrantyCard,
)
from saleor_aftersales.orders import save_order

from .conftest import create_return, line_input

BEFORE = ("saleor_aftersales", "0013_photo_thumbnails")


def test_saving_the_same_order_again_updates_it_in_place(order):
    facts = host.order_facts(order)
    first = save_order(facts)
    later = replace(
        facts,
        user_email="new@example.com",
        lines=tuple(replace(line, quantity_fulfilled=0) for line in facts.lines),
    )
    second = save_order(later)
    assert second.pk == first.pk
    assert ShopOrder.objects.filter(host_id=facts.host_id).count() == 1
    assert ShopOrderLine.objects.filter(order=first).count() == len(facts.lines)
    stored = ShopOrder.objects.get(pk=first.pk)
    assert stored.user_email == "new@example.com"
    assert set(stored.lines.values_list("quantity_fulfilled", flat=True)) == {0}
    # The returned copy maps the host's line ids to the stored lines.
    assert {line.host_id: line.pk for line in second.lines_by_host_id.values()} == dict(
        stored.lines.values_list("host_id", "pk")
    )


def test_the_copy_holds_what_the_order_says(order):
    copy = save_order(host.order_facts(order))
    stored = ShopOrder.objects.get(pk=copy.pk)
    assert stored.host_id == str(order.pk) and stored.number == str(order.pk)
    assert stored.user_email == order.user_email
    assert stored.customer_ref == str(order.user_id)
    assert stored.guest_token == ""  # an account's order has no guest proof
    assert stored.total_gross_amount == order.total_gross_amount
    assert stored.shipping_price_gross_amount == order.shipping_price_gross_amount
    for saleor_line in order.lines.select_related("variant__product"):
        line = stored.lines.get(host_id=str(saleor_line.pk))
        assert line.quantity == saleor_line.quantity
        assert line.quantity_fulfilled == saleor_line.quantity_fulfilled
        assert line.unit_price_gross_amount == saleor_line.unit_price_gross_amount
        assert line.sku == saleor_line.product_sku
        assert line.variant_ref == str(saleor_line.variant_id)
        assert line.product_type_ref == str(saleor_line.variant.product.product_type_id)
        shipped = FulfillmentLine.objects.filter(order_line=saleor_line).latest(
            "fulfillment__created"
        )
        assert line.fulfilled_at == shipped.fulfillment.created


def test_saleor_fulfilling_an_order_updates_its_copy(customer, staff_user, warehouse):
    variant = shop.make_variants(1, warehouse)[0]
    order = shop.place_order(customer, [(variant, 3)])
    shop.pay_with_dummy(order)
    line = order.lines.get()
    # Saleor's own fulfillment, through its plugin manager's hooks
    # (order_updated, then fulfillment_created): the order is copied once.
    with CaptureQueriesContext(connection) as queries:
        shop.fulfill(order, staff_user, warehouse, {line.pk: 2})
    upserts = [
        query
        for query in queries.captured_queries
        if "INSERT INTO saleor_aftersales_shoporder " in query["sql"]
    ]
    assert len(upserts) == 1
    copied = ShopOrderLine.objects.get(host_id=str(line.pk))
    assert (copied.quantity, copied.quantity_fulfilled) == (3, 2)
    assert copied.fulfilled_at is not None
    shop.fulfill(order, staff_user, warehouse, {line.pk: 1})
    copied.refresh_from_db()
    assert copied.quantity_fulfilled == 3
    assert WarrantyCard.objects.filter(order_line=copied).count() == 3


def test_copies_are_numbered_apart_from_saleors_orders(order, customer_api):
    """Tests start the copies' numbering far from Saleor's, so code that mistook
    one id for the other would fail here and everywhere else."""
    line = order.lines.first()
    claim = create_return(customer_api, order, [line_input(line, 1)])
    request = AftersalesRequest.objects.get(
        pk=int(claim["aftersalesRequest"]["number"].split("-")[1])
    )
    assert not claim["errors"]
    assert request.order.host_id == str(order.pk)
    assert request.order_id != order.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_copies_every_order_and_keeps_claims_and_cards(
    customer, staff_user, warehouse
):
    variant = shop.make_variants(1, warehouse)[0]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("saleor_aftersales")
    executor.migrate([BEFORE])
    try:
        old = executor.loader.project_state([BEFORE]).apps
        order = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variant, 2)]
        )
        unclaimed = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variant, 1)]
        )
        line = order.lines.get()
        shipped = FulfillmentLine.objects.get(order_line=line)
        OldRequest = old.get_model("saleor_aftersales", "AftersalesRequest")
        OldLine = old.get_model("saleor_aftersales", "AftersalesLine")
        OldCard = old.get_model("saleor_aftersales", "WarrantyCard")
        claim = OldRequest.objects.create(
            type="return",
            status="requested",
            order_id=order.pk,
            user_id=customer.pk,
            user_email=customer.email,
            currency="USD",
        )
        OldLine.objects.create(
            request=claim,
            order_line_id=line.pk,
            quantity_requested=1,
            reason="defective",
            unit_price_gross_amount=line.unit_price_gross_amount,
        )
        card = OldCard.objects.create(
            code="0000000000000000",
            order_id=order.pk,
            order_line_id=line.pk,
            fulfillment_line_id=shipped.pk,
            unit_index=1,
            product_name=line.product_name,
            starts_at=shipped.fulfillment.created,
            ends_at=shipped.fulfillment.created,
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    claim = AftersalesRequest.objects.select_related("order").get(pk=claim.pk)
    assert claim.order.host_id == str(order.pk)
    assert claim.order.user_email == customer.email
    assert claim.customer_ref == str(customer.pk)  # 0015: accounts by reference
    claim_line = AftersalesLine.objects.select_related("order_line").get(request=claim)
    assert claim_line.order_line.host_id == str(line.pk)
    assert claim_line.order_line.quantity_fulfilled == 2
    assert claim_line.order_line.fulfilled_at == shipped.fulfillment.created
    card = WarrantyCard.objects.get(pk=card.pk)
    assert card.fulfillment_line_ref == str(shipped.pk)
    assert card.order_line.host_id == str(line.pk)
    # Orders nobody claimed are copied too: statistics count what was sold.
    assert ShopOrder.objects.filter(host_id=str(unclaimed.pk)).exists()
    # Later copies number on from the largest.
    newer = shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, 1)])
    copy = save_order(host.order_facts(newer))
    assert copy.pk > ShopOrder.objects.get(host_id=str(unclaimed.pk)).pk
    # The migrated claim still holds its unit: one of two is left to claim.
    copy = save_order(host.order_facts(order))
    from saleor_aftersales.configuration import get_settings
    from saleor_aftersales.policies import order_eligibility

    (eligibility,) = order_eligibility(copy, get_settings())
    assert eligibility.quantity_claimed == 1
    assert eligibility.quantity_available == 1


def test_a_line_of_another_order_is_refused_and_changes_nothing(
    order, customer_api, customer, staff_user, warehouse
):
    other = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(shop.make_variants(1, warehouse)[0], 1)]
    )
    before = AftersalesRequest.objects.count()
    result = create_return(customer_api, order, [line_input(other.lines.get(), 1)])
    assert [e["code"] for e in result["errors"]] == ["LINE_NOT_IN_ORDER"]
    assert AftersalesRequest.objects.count() == before


@pytest.mark.django_db
def test_the_migrations_match_the_models():
    """The 2.10 host's history of the core's tables is complete (the Saleor 3.23
    app keeps its own; tests/saleor3 checks that one)."""
    from django.core.management import call_command

    call_command(
        "makemigrations", "saleor_aftersales", "--check", "--dry-run", verbosity=0
    )
