"""Saleor 3.23's own order events keep the app's copy of each order current:
paid, then fulfilled, through signed webhooks delivered by Saleor's worker."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from demo import saleor3_shop as shop
from saleor_aftersales.models import ShopOrder, ShopOrderLine, WarrantyCard

from saleor_aftersales.hosts.saleor3.facts import ORDER_FIELDS

from .conftest import wait_for
from .test_install import post_signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def goods(saleor):
    return shop.make_goods(saleor, saleor.staff_token)


def test_saleors_order_events_fill_and_update_the_copy(saleor, installed, goods):
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, "customer@example.com", 2)
    shop.mark_paid(saleor, token, order["id"])
    copy = wait_for(
        lambda: ShopOrder.objects.filter(host_id=order["id"]).first(),
        what="ORDER_FULLY_PAID reaching the app",
    )
    assert copy.number == str(order["number"])
    assert copy.user_email == "customer@example.com"
    assert (copy.currency, copy.total_gross_amount) == ("USD", Decimal("50.00"))
    assert copy.channel == "default-channel" and copy.facts_at is not None
    line = ShopOrderLine.objects.get(order=copy)
    assert line.host_id == order["lines"][0]["id"]
    assert line.variant_ref == goods.variant and line.sku == "JACKET-M"
    assert (line.quantity, line.unit_price_gross_amount) == (2, Decimal("25.00"))
    assert line.quantity_fulfilled == 0 and line.fulfilled_at is None

    shop.fulfill(saleor, token, goods, order)
    wait_for(
        lambda: ShopOrderLine.objects.filter(pk=line.pk, quantity_fulfilled=2).exists(),
        what="ORDER_FULFILLED reaching the app",
    )
    line.refresh_from_db()
    assert line.fulfilled_at is not None
    copy.refresh_from_db()
    assert copy.status == "fulfilled"
    assert ShopOrder.objects.filter(host_id=order["id"]).count() == 1
    # A warranty card per unit shipped, from the shipment's own lines.
    cards = WarrantyCard.objects.filter(order_line=line)
    assert sorted(cards.values_list("unit_index", flat=True)) == [1, 2]
    assert {card.starts_at for card in cards} == {line.fulfilled_at}
    assert all(card.fulfillment_line_ref for card in cards)

    # Later events carry the whole order again: nothing is duplicated.
    saleor.graphql(
        "mutation($id: ID!) { orderUpdate(id: $id, input: {userEmail:"
        ' "new@example.com"}) { errors { field code message } } }',
        {"id": order["id"]},
        token=token,
    )
    wait_for(
        lambda: ShopOrder.objects.filter(
            pk=copy.pk, user_email="new@example.com"
        ).exists(),
        what="ORDER_UPDATED reaching the app",
    )
    assert WarrantyCard.objects.filter(order_line=line).count() == 2


def test_a_partial_shipment_reaches_the_copy(saleor, installed, goods):
    """One unit of three shipped: Saleor sends FULFILLMENT_CREATED (no
    ORDER_FULFILLED yet); the copy counts the unit and its card is issued."""
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, "customer@example.com", 3)
    shop.mark_paid(saleor, token, order["id"])
    one_unit = dict(order, lines=[dict(order["lines"][0], quantity=1)])
    shop.fulfill(saleor, token, goods, one_unit)
    # Saleor reads an order's row and its lines in separate queries, so the read
    # back for an earlier webhook (the payment's) may see the new lines beside the
    # old status; the read for FULFILLMENT_CREATED, newer by Saleor's clock, wins.
    line = wait_for(
        lambda: ShopOrderLine.objects.filter(
            host_id=order["lines"][0]["id"],
            quantity_fulfilled=1,
            order__status="partially_fulfilled",
        ).first(),
        what="FULFILLMENT_CREATED reaching the app",
    )
    wait_for(
        lambda: WarrantyCard.objects.filter(order_line=line).count() == 1,
        what="the shipped unit's warranty card",
    )


def test_a_forged_order_in_a_signed_body_is_not_copied(
    saleor, app_url, installed, goods
):
    """A body signed with Saleor's key (as another app's could be, shaped with
    aliases) claiming the order is someone else's, with more units shipped: the
    copy is what Saleor has, read with the app's token."""
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, "customer@example.com", 1)
    shop.mark_paid(saleor, token, order["id"])
    live = saleor.graphql(
        ORDER_FIELDS + "query($id: ID!) { order(id: $id) { ...AftersalesOrder } }",
        {"id": order["id"]},
        token=token,
    )["data"]["order"]
    forged = json.loads(json.dumps(live))
    forged["user"] = {"id": "VXNlcjo5OTk="}
    forged["updatedAt"] = "2099-01-01T00:00:00+00:00"
    forged["lines"][0]["quantityFulfilled"] = 1
    now = datetime.now(timezone.utc).isoformat()
    body = json.dumps(
        {"__typename": "OrderUpdated", "issuedAt": now, "order": forged}
    ).encode()
    response = post_signed(saleor, app_url, installed, body)
    assert response.status_code == 200, response.text
    copy = ShopOrder.objects.get(host_id=order["id"])
    assert copy.customer_ref == "" and copy.facts_at.year < 2099
    assert copy.lines.get().quantity_fulfilled == 0
    assert not WarrantyCard.objects.filter(order_line__order=copy).exists()


def test_an_order_the_webhooks_never_brought_is_read_from_saleor(
    saleor, app_url, goods, transactional_db
):
    """Placed and paid before the app was installed: no event reached it, and a
    claim naming that order finds it in Saleor, read with the app's token."""
    from saleor_aftersales.hosts.saleor3 import shop as saleor_shop
    from saleor_aftersales.orders import save_order

    from .conftest import as_installed, uninstall_earlier

    uninstall_earlier(saleor)
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, "early@example.com", 1)
    shop.mark_paid(saleor, token, order["id"])
    with as_installed(saleor, app_url):
        assert not ShopOrder.objects.filter(host_id=order["id"]).exists()
        facts = saleor_shop.fetch_order_facts(order["id"])
        assert facts.host_id == order["id"] and facts.as_of is not None
        assert [line.host_id for line in facts.lines] == [order["lines"][0]["id"]]
        copy = save_order(facts)
        assert copy.user_email == "early@example.com"
        # A stranger's id: none such.
        assert (
            saleor_shop.fetch_order_facts(
                "T3JkZXI6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw"
            )
            is None
        )


def test_an_older_event_delivered_late_changes_nothing(
    saleor, app_url, installed, goods
):
    """Saleor retries: the paid event arrives after the fulfilled one. Signed with
    the shop's key, well formed, and older than the copy: the copy keeps the
    newer facts and no cards are issued from the stale shipments."""
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, "late@example.com", 1)
    shop.mark_paid(saleor, token, order["id"])
    shop.fulfill(saleor, token, goods, order)
    line = wait_for(
        lambda: ShopOrderLine.objects.filter(
            order__host_id=order["id"], quantity_fulfilled=1
        ).first(),
        what="the fulfilled order reaching the app",
    )
    current = saleor.graphql(
        ORDER_FIELDS + "query($id: ID!) { order(id: $id) { ...AftersalesOrder } }",
        {"id": order["id"]},
        token=token,
    )["data"]["order"]
    # The same order as an earlier event saw it: unfulfilled, updated earlier.
    updated = datetime.fromisoformat(current["updatedAt"]) - timedelta(minutes=1)
    earlier = dict(
        current,
        status="UNFULFILLED",
        updatedAt=updated.isoformat(),
        fulfillments=[],
        lines=[dict(current["lines"][0], quantityFulfilled=0)],
    )
    body = json.dumps(
        {
            "__typename": "OrderFullyPaid",
            "issuedAt": datetime.now(timezone.utc).isoformat(),
            "order": earlier,
        }
    ).encode()
    cards = WarrantyCard.objects.filter(order_line=line).count()
    assert cards == 1
    response = post_signed(saleor, app_url, installed, body)
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.quantity_fulfilled == 1 and line.fulfilled_at is not None
    assert ShopOrder.objects.get(host_id=order["id"]).status == "fulfilled"
    assert WarrantyCard.objects.filter(order_line=line).count() == cards
