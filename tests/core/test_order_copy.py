"""The core's copy of an order, from facts alone: the same code on both stacks.
Host ids are text; here they look like Saleor 3's (UUIDs), in the main suite the
2.10 host's integer ids go through the same upsert (tests/test_order_copy.py)."""

import threading
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import pytz
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction

from saleor_aftersales.models import ShopOrder, ShopOrderLine
from saleor_aftersales.orders import lock_order, save_order
from saleor_aftersales.port import LineFacts, OrderFacts, host

PLACED = pytz.utc.localize(datetime(2026, 11, 2, 9, 30))


def line(quantity=2, fulfilled=2, price="19.99", **changes):
    values = dict(
        host_id=str(uuid.uuid4()),
        variant_ref=str(uuid.uuid4()),
        product_ref=str(uuid.uuid4()),
        product_type_ref=str(uuid.uuid4()),
        product_name="Rain jacket",
        variant_name="M",
        sku="JACKET-M",
        unit_price_gross=Decimal(price),
        quantity=quantity,
        quantity_fulfilled=fulfilled,
        fulfilled_at=PLACED + timedelta(days=1) if fulfilled else None,
    )
    values.update(changes)
    return LineFacts(**values)


def order_facts(*lines, **changes):
    values = dict(
        host_id=str(uuid.uuid4()),
        number="1042",
        status="FULFILLED",
        user_email="shopper@example.com",
        currency="EUR",
        total_gross=Decimal("45.97"),
        shipping_gross=Decimal("5.99"),
        placed_at=PLACED,
        lines=tuple(lines),
        customer_ref=str(uuid.uuid4()),
        channel="default-channel",
    )
    values.update(changes)
    return OrderFacts(**values)


def test_asking_the_shop_without_a_host_is_refused_clearly():
    with pytest.raises(ImproperlyConfigured, match="AFTERSALES_HOST"):
        host.shop_domain()


@pytest.mark.django_db
def test_the_copy_holds_the_facts_exactly():
    facts = order_facts(line(price="19.99"), line(quantity=1, fulfilled=0))
    copy = save_order(facts)
    stored = ShopOrder.objects.get(pk=copy.pk)
    assert stored.host_id == facts.host_id
    assert (stored.number, stored.status, stored.channel) == (
        "1042",
        "FULFILLED",
        "default-channel",
    )
    assert stored.customer_ref == facts.customer_ref and stored.guest_token == ""
    # Money keeps its cents and currency; time stays aware, in UTC.
    assert stored.total_gross_amount == Decimal("45.97")
    assert stored.shipping_price_gross_amount == Decimal("5.99")
    assert stored.currency == "EUR"
    assert stored.placed_at == PLACED and stored.placed_at.utcoffset() == timedelta(0)
    for given in facts.lines:
        kept = stored.lines.get(host_id=given.host_id)
        assert kept.unit_price_gross_amount == given.unit_price_gross
        assert kept.currency == "EUR"
        assert (kept.quantity, kept.quantity_fulfilled) == (
            given.quantity,
            given.quantity_fulfilled,
        )
        assert kept.fulfilled_at == given.fulfilled_at
        assert (kept.variant_ref, kept.product_ref, kept.product_type_ref) == (
            given.variant_ref,
            given.product_ref,
            given.product_type_ref,
        )
    # The returned copy maps the host's line ids to the stored rows.
    assert {key: value.pk for key, value in copy.lines_by_host_id.items()} == dict(
        stored.lines.values_list("host_id", "pk")
    )


@pytest.mark.django_db
def test_the_same_order_again_updates_in_place_and_the_latest_facts_win():
    first_line, second_line = line(fulfilled=0), line()
    facts = order_facts(first_line, second_line)
    first = save_order(facts)
    shipped = replace(first_line, quantity_fulfilled=2, fulfilled_at=PLACED)
    later = replace(facts, user_email="new@example.com", lines=(shipped, second_line))
    again = save_order(later)
    save_order(later)  # delivered twice: harmless
    assert again.pk == first.pk
    assert ShopOrder.objects.filter(host_id=facts.host_id).count() == 1
    assert ShopOrderLine.objects.filter(order_id=first.pk).count() == 2
    stored = ShopOrderLine.objects.get(host_id=first_line.host_id)
    assert (stored.quantity_fulfilled, stored.fulfilled_at) == (2, PLACED)
    assert ShopOrder.objects.get(pk=first.pk).user_email == "new@example.com"
    # Line ids are stable: what claims point at does not move.
    assert again.lines_by_host_id[first_line.host_id].pk == (
        first.lines_by_host_id[first_line.host_id].pk
    )


@pytest.mark.django_db
def test_facts_without_lines_copy_the_order_and_keep_its_lines():
    facts = order_facts(line())
    copy = save_order(facts)
    header_only = save_order(replace(facts, lines=(), status="CANCELED"))
    assert header_only.pk == copy.pk and header_only.lines_by_host_id == {}
    assert ShopOrder.objects.get(pk=copy.pk).status == "CANCELED"
    assert ShopOrderLine.objects.filter(order_id=copy.pk).count() == 1


@pytest.mark.django_db
def test_copying_is_two_statements_whatever_the_number_of_lines(
    django_assert_num_queries,
):
    # The copy, then what its lines changed in units sold (the analytics rollups).
    for count in (1, 40):
        with django_assert_num_queries(2):
            copy = save_order(order_facts(*[line() for _ in range(count)]))
        assert len(copy.lines_by_host_id) == count


def try_locking_elsewhere(pk, outcomes):
    """Another connection asks for the copy's row lock without waiting."""
    try:
        with transaction.atomic():
            ShopOrder.objects.select_for_update(nowait=True).get(pk=pk)
        outcomes.append("locked it")
    except DatabaseError:
        outcomes.append("refused")
    finally:
        connection.close()


def in_another_thread(pk, outcomes):
    thread = threading.Thread(target=try_locking_elsewhere, args=(pk, outcomes))
    thread.start()
    thread.join()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_a_transaction_the_copy_stays_locked_until_commit():
    """The upsert's row lock is what serialises claims on one order: another
    connection cannot lock the copy until the first transaction ends."""
    facts = order_facts(line())
    pk = save_order(facts).pk
    outcomes = []
    with transaction.atomic():
        save_order(replace(facts, user_email="during@example.com"))
        in_another_thread(pk, outcomes)
    in_another_thread(pk, outcomes)
    assert outcomes == ["refused", "locked it"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_lock_order_holds_the_copy_for_the_callers_transaction():
    pk = save_order(order_facts(line())).pk
    outcomes = []
    with transaction.atomic():
        assert lock_order(pk).pk == pk
        in_another_thread(pk, outcomes)
    in_another_thread(pk, outcomes)
    assert outcomes == ["refused", "locked it"]


@pytest.mark.django_db
def test_facts_older_than_the_copy_change_nothing():
    """Webhooks arrive out of order: facts that say when they were true never
    overwrite newer ones; equal or newer ones do, and so do live reads."""
    first_line = line(quantity=2, fulfilled=0)
    paid = order_facts(first_line, status="UNFULFILLED", as_of=PLACED)
    shipped_line = replace(first_line, quantity_fulfilled=2, fulfilled_at=PLACED)
    fulfilled = replace(
        paid,
        status="FULFILLED",
        lines=(shipped_line,),
        as_of=PLACED + timedelta(minutes=5),
    )
    copy = save_order(fulfilled)
    late = save_order(paid)  # issued earlier, delivered later
    assert late.pk == copy.pk
    stored = ShopOrder.objects.get(pk=copy.pk)
    assert stored.status == "FULFILLED" and stored.facts_at == fulfilled.as_of
    assert ShopOrderLine.objects.get(host_id=first_line.host_id).quantity_fulfilled == 2
    # The stale call still hands back the copy with its lines, as stored.
    assert late.lines_by_host_id[first_line.host_id].quantity_fulfilled == 2
    newer = replace(fulfilled, user_email="later@example.com", as_of=fulfilled.as_of)
    assert save_order(newer).user_email == "later@example.com"
    save_order(replace(paid, as_of=None, user_email="live@example.com"))
    assert ShopOrder.objects.get(pk=copy.pk).user_email == "live@example.com"


def units_sold():
    """The rollups' units sold per (day, product, channel), shards summed."""
    from django.db.models import Sum

    from saleor_aftersales.models import ProductDay

    return {
        (row["day"], row["product_ref"], row["channel"]): row["units"]
        for row in ProductDay.objects.order_by()
        .values("day", "product_ref", "channel")
        .annotate(units=Sum("units_sold"))
        if row["units"]
    }


@pytest.mark.django_db
def test_units_sold_follow_the_copy_and_equal_a_rebuild():
    from saleor_aftersales import rollups

    rollups.rebuild("Asia/Shanghai")
    first, second = line(quantity=3, fulfilled=1), line(quantity=2, fulfilled=0)
    facts = order_facts(first, second)
    save_order(facts)
    day = PLACED.astimezone(pytz.timezone("Asia/Shanghai")).date()
    assert units_sold() == {(day, first.product_ref, "default-channel"): 1}
    # Shipped later, a webhook repeated, an older one arriving last: the latest
    # facts count, once.
    later = replace(
        facts,
        lines=(replace(first, quantity_fulfilled=3), replace(second, quantity_fulfilled=2)),
        as_of=PLACED + timedelta(days=2),
    )
    save_order(later)
    save_order(later)
    save_order(replace(facts, as_of=PLACED + timedelta(days=1)))
    expected = {
        (day, first.product_ref, "default-channel"): 3,
        (day, second.product_ref, "default-channel"): 2,
    }
    assert units_sold() == expected
    # A draft sells nothing.
    save_order(replace(later, status="draft", as_of=PLACED + timedelta(days=3)))
    assert units_sold() == {}
    save_order(replace(later, as_of=PLACED + timedelta(days=4)))
    assert units_sold() == expected
    rollups.rebuild("Asia/Shanghai")
    assert units_sold() == expected


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_copies_of_a_new_order_racing_count_its_units_once():
    from saleor_aftersales import rollups

    rollups.rebuild("UTC")
    facts = order_facts(line(quantity=4, fulfilled=4), line(quantity=1, fulfilled=1))
    start, errors = threading.Barrier(4), []

    def copy():
        try:
            start.wait(30)
            save_order(facts)
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=copy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(units_sold().values()) == 5
    kept = units_sold()
    rollups.rebuild("UTC")
    assert units_sold() == kept
