"""The core's workflow on Python 3.12 with Saleor 3.23 behind the port: a return
opened by the order's customer and approved by the desk; each step's note lands
in Saleor's order history once, even when an attempt died after Saleor wrote it."""

import io
import subprocess

import pytest
from django.core.management import call_command

from saleor_aftersales import workflow
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.enums import Reason, RequestStatus, RequestType
from saleor_aftersales.hosts.saleor3 import calls, stock
from saleor_aftersales.hosts.saleor3 import shop as saleor_shop
from saleor_aftersales.hosts.saleor3.identity import Viewer
from saleor_aftersales.hosts.saleor3.models import SaleorCall


pytestmark = pytest.mark.django_db(transaction=True)

NOTES = "query($id: ID!) { order(id: $id) { events { type message } } }"


def notes(saleor, order_id):
    events = saleor.graphql(NOTES, {"id": order_id}, token=saleor.staff_token)["data"][
        "order"
    ]["events"]
    return [event["message"] for event in events if event["type"] == "NOTE_ADDED"]


def test_a_return_is_opened_and_approved_with_notes_in_saleor(saleor, fulfilled_order):
    customer = Viewer(user_ref="", email="customer@example.com", is_staff=False)
    staff = Viewer(
        user_ref="VXNlcjox",
        email="admin@example.com",
        is_staff=True,
        permissions=frozenset({"MANAGE_ORDERS"}),
    )
    facts = saleor_shop.fetch_order_facts(fulfilled_order["id"])
    request = workflow.create_request(
        facts,
        type=RequestType.RETURN,
        lines=[
            workflow.ClaimLineInput(
                order_line=fulfilled_order["lines"][0]["id"],
                quantity=1,
                reason=Reason.DEFECTIVE,
            )
        ],
        by=workflow.Actor.customer(customer),
        settings=get_settings(),
    )
    workflow.approve(request, by=workflow.Actor.staff(staff))
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    written = notes(saleor, fulfilled_order["id"])
    assert [n for n in written if f"{request.number} created by customer" in n], written
    approved = [n for n in written if "approved by admin@example.com" in n]
    assert len(approved) == 1, written
    assert set(SaleorCall.objects.values_list("status", flat=True)) == {"done"}


def test_a_note_saleor_already_wrote_is_not_written_again(saleor, fulfilled_order):
    """The attempt died after Saleor added the note and before the app recorded
    it: the next attempt finds the note and only records it."""
    shop_row = saleor_shop.current_shop()
    call = SaleorCall.objects.create(
        shop=shop_row,
        kind=SaleorCall.NOTE,
        order_ref=fulfilled_order["id"],
        payload={"message": "Crash test"},
        attempts=1,
    )
    calls._add_note(call)  # what the dead attempt got done
    out = io.StringIO()
    call_command("aftersales_sweep", stdout=out)  # the sweeper, as cron runs it
    assert "1 owed call(s), 0 refund(s), 0 webhook(s), 0 e-mail(s) tried." in (
        out.getvalue()
    )
    call.refresh_from_db()
    assert (call.status, call.attempts) == ("done", 2)
    assert (
        len([n for n in notes(saleor, fulfilled_order["id"]) if "Crash test" in n]) == 1
    )
    # A fresh call is made on its first attempt.
    fresh = SaleorCall.objects.create(
        shop=shop_row,
        kind=SaleorCall.NOTE,
        order_ref=fulfilled_order["id"],
        payload={"message": "Fresh note"},
    )
    assert calls.deliver(fresh.pk) == "done"
    assert calls.deliver(fresh.pk) == "taken"
    assert (
        len([n for n in notes(saleor, fulfilled_order["id"]) if "Fresh note" in n]) == 1
    )


FULFILLMENTS = """
query($id: ID!) { order(id: $id) {
  status fulfillments { status reason lines { quantity orderLine { id } } }
} }
"""


def fulfillments(saleor, order_id):
    return saleor.graphql(FULFILLMENTS, {"id": order_id}, token=saleor.staff_token)[
        "data"
    ]["order"]


def approved_return(saleor, order, quantity):
    customer = Viewer(user_ref="", email="customer@example.com", is_staff=False)
    request = workflow.create_request(
        saleor_shop.fetch_order_facts(order["id"]),
        type=RequestType.RETURN,
        lines=[
            workflow.ClaimLineInput(
                order_line=order["lines"][0]["id"],
                quantity=quantity,
                reason=Reason.DEFECTIVE,
            )
        ],
        by=workflow.Actor.customer(customer),
        settings=get_settings(),
    )
    workflow.approve(request, by=workflow.Actor.staff(STAFF))
    return request


STAFF = Viewer(
    user_ref="VXNlcjox",
    email="admin@example.com",
    is_staff=True,
    permissions=frozenset({"MANAGE_ORDERS"}),
)


STOCK = """
query($id: ID!) { productVariant(id: $id) { stocks { quantity warehouse { id slug } } } }
"""
CHANNEL_WAREHOUSES = "{ channels { warehouses { slug } } }"


SET_STOCK = """
mutation($id: ID!, $warehouse: ID!, $quantity: Int!) {
  productVariantStocksUpdate(variantId: $id,
    stocks: [{warehouse: $warehouse, quantity: $quantity}]) { errors { message } }
}
"""


def set_stock_by_hand(saleor, variant, warehouse, quantity):
    """Staff changing a stock in Saleor, as the app never would."""
    data = saleor.graphql(
        SET_STOCK,
        {"id": variant, "warehouse": warehouse, "quantity": quantity},
        token=saleor.staff_token,
    )
    assert data["data"]["productVariantStocksUpdate"]["errors"] == [], data


def returns_stock(saleor, variant):
    stocks = saleor.graphql(STOCK, {"id": variant}, token=saleor.staff_token)["data"][
        "productVariant"
    ]["stocks"]
    return sum(
        s["quantity"] for s in stocks if s["warehouse"]["slug"] == "aftersales-returns"
    )


def test_receipt_records_the_return_and_restocks_once(saleor, fulfilled_order, boots):
    request = approved_return(saleor, fulfilled_order, 1)
    before = returns_stock(saleor, boots.variant)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))  # every unit restocked
    request.refresh_from_db()
    assert request.status == RequestStatus.RECEIVED
    order = fulfillments(saleor, fulfilled_order["id"])
    returned = [f for f in order["fulfillments"] if f["status"] == "RETURNED"]
    assert len(returned) == 1
    assert returned[0]["lines"][0]["quantity"] == 1
    assert (
        returned[0]["lines"][0]["orderLine"]["id"] == fulfilled_order["lines"][0]["id"]
    )
    shipped = [f for f in order["fulfillments"] if f["status"] == "FULFILLED"]
    assert sum(l["quantity"] for f in shipped for l in f["lines"]) == 1
    # The unit is back in stock, in the app's returns warehouse, sold from no channel.
    assert returns_stock(saleor, boots.variant) == before + 1
    channels = saleor.graphql(CHANNEL_WAREHOUSES, token=saleor.staff_token)["data"]
    assert "aftersales-returns" not in {
        w["slug"] for c in channels["channels"] for w in c["warehouses"]
    }

    # Attempts that died after Saleor acted: the sweeper finds the RETURNED
    # fulfillment by its reference and the stock at its planned target, and only
    # records them.
    SaleorCall.objects.filter(kind__in=["return", "restock"]).update(
        status="pending", attempts=1
    )
    calls.deliver_due(saleor_shop.current_shop())
    assert set(
        SaleorCall.objects.filter(kind__in=["return", "restock"]).values_list(
            "status", flat=True
        )
    ) == {"done"}
    order = fulfillments(saleor, fulfilled_order["id"])
    assert len([f for f in order["fulfillments"] if f["status"] == "RETURNED"]) == 1
    assert returns_stock(saleor, boots.variant) == before + 1


def test_a_restock_whose_stock_changed_elsewhere_waits_for_staff(
    saleor, fulfilled_order, boots
):
    request = approved_return(saleor, fulfilled_order, 2)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))
    after = returns_stock(saleor, boots.variant)
    restock = SaleorCall.objects.get(kind="restock")
    # Someone set the returns warehouse's stock by hand while a restock was
    # planned but not yet written: the app neither adds on top nor overwrites.
    shop_row = saleor_shop.current_shop()
    set_stock_by_hand(saleor, boots.variant, shop_row.returns_warehouse_id, after + 7)
    # As if the attempt died after planning, before Saleor heard of it.
    SaleorCall.objects.filter(pk=restock.pk).update(
        status="pending", attempts=1, payload={**restock.payload, "written": []}
    )
    calls.deliver_due(saleor_shop.current_shop())
    restock.refresh_from_db()
    assert restock.status == "failed" and "changed outside the app" in restock.error
    assert returns_stock(saleor, boots.variant) == after + 7


def test_restocking_elsewhere_than_the_returns_warehouse_is_refused(
    saleor, fulfilled_order, boots
):
    from django.core.exceptions import ValidationError

    request = approved_return(saleor, fulfilled_order, 1)
    with pytest.raises(ValidationError) as refused:
        workflow.receive(
            request,
            by=workflow.Actor.staff(STAFF),
            warehouse=saleor_shop.Warehouse(pk=boots.warehouse),
        )
    assert refused.value.error_dict["warehouse"][0].code == "no_warehouse"
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert not SaleorCall.objects.filter(kind__in=["return", "restock"]).exists()


def test_restocks_run_oldest_first_so_none_is_lost(saleor, fulfilled_order, boots):
    """An earlier restock planned, then its worker died before Saleor heard of
    it; the next receipt finishes that one first, then plans its own on top."""
    shop_row = saleor_shop.current_shop()
    warehouse = stock.returns_warehouse(shop_row)
    start = returns_stock(saleor, boots.variant)
    dead = SaleorCall.objects.create(
        shop=shop_row,
        kind=SaleorCall.RESTOCK,
        order_ref=fulfilled_order["id"],
        payload={
            "warehouse": warehouse,
            "variants": {boots.variant: 2},
            "plan": {boots.variant: [start, start + 2]},
        },
        attempts=1,
    )
    request = approved_return(saleor, fulfilled_order, 1)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))
    assert returns_stock(saleor, boots.variant) == start + 3
    assert set(
        SaleorCall.objects.filter(kind="restock").values_list("status", flat=True)
    ) == {"done"}
    dead.refresh_from_db()
    assert dead.status == "done"


def test_units_moved_on_after_a_restock_are_not_restocked_again(
    saleor, fulfilled_order, boots
):
    """Staff moved the restocked units on (the returns warehouse is back at its
    base); a late retry of that restock must not add them again."""
    request = approved_return(saleor, fulfilled_order, 1)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))
    restock = SaleorCall.objects.get(kind="restock")
    base, target = restock.payload["plan"][boots.variant]
    assert returns_stock(saleor, boots.variant) == target
    shop_row = saleor_shop.current_shop()
    set_stock_by_hand(saleor, boots.variant, shop_row.returns_warehouse_id, base)
    SaleorCall.objects.filter(pk=restock.pk).update(status="pending", attempts=1)
    calls.deliver_due(saleor_shop.current_shop())
    restock.refresh_from_db()
    assert restock.status == "done"
    assert returns_stock(saleor, boots.variant) == base


def test_a_call_under_another_attempts_lease_waits_for_it(saleor, fulfilled_order):
    """A live attempt holds its lease: the sweeper leaves the call alone until
    the lease runs out (the worker died), then makes it once."""
    from datetime import timedelta

    from django.utils import timezone

    call = SaleorCall.objects.create(
        shop=saleor_shop.current_shop(),
        kind=SaleorCall.NOTE,
        order_ref=fulfilled_order["id"],
        payload={"message": "Leased note"},
        attempts=1,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    assert calls.deliver_due(saleor_shop.current_shop()) == []
    assert calls.deliver(call.pk) == "taken"
    SaleorCall.objects.filter(pk=call.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert calls.deliver_due(saleor_shop.current_shop()) == [call.pk]
    call.refresh_from_db()
    assert (call.status, call.attempts) == ("done", 2)
    written = [n for n in notes(saleor, fulfilled_order["id"]) if "Leased note" in n]
    assert len(written) == 1


RETURNS_WAREHOUSE = """
query($id: ID!) { warehouse(id: $id) {
  address { companyName streetAddress1 postalCode city country { country } }
} }
"""


def test_an_approved_returns_slip_downloads_with_the_returns_address(
    saleor, fulfilled_order
):
    """The slip's link, opened at the app, serves the PDF from the claim's shop:
    its RMA, and the returns warehouse's address as Saleor has it."""
    from django.test import Client

    from saleor_aftersales import slips

    request = approved_return(saleor, fulfilled_order, 1)
    url = slips.signed_url(request, slips.LETTER)
    response = Client().get(url + "?language=zh-hans")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{request.number}.pdf"'
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],
        input=response.content,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert request.number in text and "退货单" in text
    shop_row = saleor_shop.current_shop()
    shop_row.refresh_from_db()  # the view found (or made) the returns warehouse
    warehouse = shop_row.returns_warehouse_id
    assert warehouse
    address = saleor.graphql(
        RETURNS_WAREHOUSE, {"id": warehouse}, token=saleor.staff_token
    )["data"]["warehouse"]["address"]
    assert address["streetAddress1"] and address["city"]
    for part in (
        address["streetAddress1"],
        f"{address['postalCode']} {address['city']}".strip(),
        address["country"]["country"],
    ):
        assert part in text, (part, text)
    # A link signed for another claim's id finds nothing in any shop.
    forged = url.replace(f"/{request.pk}:", f"/{request.pk + 1}:", 1)
    assert Client().get(forged).status_code == 404


def test_the_analytics_rollups_follow_a_return_through_the_app(saleor, fulfilled_order):
    """The steps taken on the app keep the rollups (units sold from Saleor's
    webhook-made copy, the claim by channel), equal to a rebuild from the claims."""
    from datetime import timedelta

    from django.db.models import Sum

    from saleor_aftersales import analytics, rollups, stats
    from saleor_aftersales.models import ClaimDay, ProductDay

    settings = get_settings()
    rollups.rebuild(settings.business_time_zone)
    request = approved_return(saleor, fulfilled_order, 1)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))
    request.refresh_from_db()
    channel = request.order.channel
    assert channel  # Saleor 3 orders live in a channel
    day = rollups.today_in(settings.business_time_zone)
    period = stats.Period(day - timedelta(days=6), day)

    def sums(model, key):
        counters = [
            f.column
            for f in model._meta.concrete_fields
            if f.column not in (*key, "id", "shard", "product_name")
        ]
        return {
            tuple(row[k] for k in key): tuple(row[c] for c in counters)
            for row in model.objects.order_by()
            .values(*key)
            .annotate(**{c: Sum(c) for c in counters})
        }

    kept = (
        sums(ClaimDay, ("day", "type", "channel")),
        sums(ProductDay, ("day", "product_ref", "channel")),
    )
    page = analytics.compute(period, settings, analytics.Filters(channel=channel))
    assert page.current.claim_count == 1
    assert page.current.by_status == {"received": 1}
    assert page.channels == [channel]
    (rate,) = [r for r in page.return_rates if r.units_claimed]
    assert rate.units_claimed == 1 and rate.units_sold >= 1
    elsewhere = analytics.compute(period, settings, analytics.Filters(channel="x"))
    assert elsewhere.current.claim_count == 0
    rollups.rebuild(settings.business_time_zone)
    assert kept == (
        sums(ClaimDay, ("day", "type", "channel")),
        sums(ProductDay, ("day", "product_ref", "channel")),
    )
