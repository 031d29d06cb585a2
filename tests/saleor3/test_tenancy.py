"""One app, two Saleors: each installs it with its own token, and each shop's
claims, order copies and refunds live in its own schema of the app's database.
A shopper or the desk of one Saleor never reaches the other's rows, even where
ids coincide; webhooks of one change nothing of the other; uninstalling one
leaves the other working."""

import os

import pytest

from demo import saleor3
from demo import saleor3_shop as shop
from saleor_aftersales.hosts.saleor3 import tenancy
from saleor_aftersales.hosts.saleor3.models import SaleorShop
from saleor_aftersales.models import AftersalesRequest, ShopOrder

from .conftest import (
    STAFF_EMAIL,
    STAFF_PASSWORD,
    free_port,
    install,
    user_id,
    wait_for,
)
from .test_api import CLAIM, CREATE, QUEUE, app_graphql
from .test_identity import dashboard_token

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def second_saleor(saleor, tmp_path_factory):
    redis_db = (int(os.environ.get("SALEOR3_TEST_REDIS_DB", "11")) + 1) % 16
    database = saleor3.create_database(
        os.environ.get("SALEOR3_TEST_DB", "aftersales_saleor3_test") + "_second"
    )
    with saleor3.Saleor(
        database,
        free_port(),
        redis_db=redis_db,
        log_dir=tmp_path_factory.mktemp("saleor3-second"),
    ) as second:
        second.create_staff(STAFF_EMAIL, STAFF_PASSWORD)
        second.staff_token = second.token(STAFF_EMAIL, STAFF_PASSWORD)
        second.create_customer("buyer@example.com", "buyer")
        shop.set_shop_address(second, second.staff_token)
        second.goods = shop.make_goods(second, second.staff_token, sku="TENT-2")
        yield second


def fulfilled(saleor_, goods, customer_token, app_shop):
    staff = saleor_.staff_token
    order = shop.place_order(
        saleor_, staff, goods, "buyer@example.com", 2, user=user_id(customer_token)
    )
    shop.mark_paid(saleor_, staff, order["id"])
    shop.fulfill(saleor_, staff, goods, order)
    with tenancy.serving(app_shop):
        wait_for(
            lambda: ShopOrder.objects.filter(
                host_id=order["id"], lines__quantity_fulfilled=2
            ).exists(),
            what="the fulfilled order reaching the app",
        )
    return order


def file_return(app_url, order, token):
    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order["id"],
                "lines": [
                    {
                        "orderLine": order["lines"][0]["id"],
                        "quantity": 1,
                        "reason": "DEFECTIVE",
                    }
                ],
            }
        },
        token=token,
    )
    created = answer["data"]["returnRequestCreate"]
    assert created["errors"] == [], created
    return created["aftersalesRequest"]


def test_two_saleors_share_the_app_and_nothing_else(
    saleor, second_saleor, app_url, boots, people, settings, transactional_db
):
    settings.SALEOR_API_URLS = [saleor.url, second_saleor.url]
    first = install(saleor, app_url)
    second = install(second_saleor, app_url)
    assert first.token != second.token
    assert tenancy.schema_of(first) != tenancy.schema_of(second)
    try:
        buyer_first = people["buyer"]
        buyer_second = second_saleor.token("buyer@example.com", "buyer")
        order_first = fulfilled(saleor, boots, buyer_first, first)
        order_second = fulfilled(
            second_saleor, second_saleor.goods, buyer_second, second
        )
        claim_first = file_return(app_url, order_first, buyer_first)
        claim_second = file_return(app_url, order_second, buyer_second)
        # Each schema holds its own shop's rows only; the claims' ids coincide.
        assert claim_first["id"] == claim_second["id"]
        for app_shop, order in ((first, order_first), (second, order_second)):
            with tenancy.serving(app_shop):
                assert list(ShopOrder.objects.values_list("host_id", flat=True)) == [
                    order["id"]
                ]
                assert AftersalesRequest.objects.get().order.host_id == order["id"]

        # The same id, asked by each Saleor's shopper: each sees their own.
        _, answer = app_graphql(app_url, CLAIM, {"id": claim_first["id"]}, buyer_first)
        assert answer["data"]["aftersalesRequest"]["user"]["email"] == (
            "buyer@example.com"
        )
        # The desk of one Saleor sees its own queue.
        desk_second = dashboard_token(second_saleor, second, second_saleor.staff_token)
        _, answer = app_graphql(app_url, QUEUE, token=desk_second)
        queue = answer["data"]["aftersalesRequests"]
        assert [edge["node"]["order"]["number"] for edge in queue["edges"]] == [
            order_second["number"]
        ]
        # An order of the other Saleor is no order here.
        _, answer = app_graphql(
            app_url,
            CREATE,
            {
                "input": {
                    "order": order_first["id"],
                    "lines": [
                        {
                            "orderLine": order_first["lines"][0]["id"],
                            "quantity": 1,
                            "reason": "DEFECTIVE",
                        }
                    ],
                }
            },
            token=buyer_second,
        )
        refused = (answer.get("data") or {}).get("returnRequestCreate")
        assert refused is None or refused["errors"], answer
        with tenancy.serving(second):
            assert AftersalesRequest.objects.count() == 1

        # Uninstalled from the first Saleor: the second goes on.
        saleor.graphql(
            "mutation($id: ID!) { appDelete(id: $id) { errors { code } } }",
            {"id": first.app_id},
            token=saleor.staff_token,
        )
        wait_for(
            lambda: not SaleorShop.objects.filter(pk=first.pk).exists(),
            what="APP_DELETED reaching the app",
        )
        _, answer = app_graphql(app_url, QUEUE, token=desk_second)
        assert answer["data"]["aftersalesRequests"]["totalCount"] == 1
    finally:
        for app_shop, saleor_ in ((first, saleor), (second, second_saleor)):
            wait_for(
                lambda: saleor_.deliveries_pending(app_shop.app_id) == 0,
                what="Saleor's webhooks to the app being delivered",
            )
            tenancy.empty(app_shop)
