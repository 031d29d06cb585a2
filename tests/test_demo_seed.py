"""The demo's seeding command (`make demo` runs it): the known customer's claims in
several states, made through Saleor's code and the workflow, once."""

from io import StringIO

from django.core.management import call_command
from saleor.account.models import User

from demo import shop
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesRefund, AftersalesRequest


def test_the_demo_seeds_claims_once(warehouse):
    User.objects.create_user("admin@example.com", "admin", is_staff=True)
    shop.make_variants(6, warehouse)
    out = StringIO()
    call_command("aftersales_demo", stdout=out)
    customer = User.objects.get(email="customer@example.com")
    claims = AftersalesRequest.objects.filter(customer_ref=host.user_ref(customer))
    assert claims.count() == 7 and "Claims: 7" in out.getvalue()
    assert set(claims.values_list("status", flat=True)) >= {
        "requested",
        "needs_info",
        "approved",
        "resolved",
        "in_repair",
    }
    credit = AftersalesRefund.objects.get(method="store_credit")
    code = host.gift_cards_by_ref([credit.gift_card_ref])[credit.gift_card_ref].code
    assert f"Store credit gift card: {code}" in out.getvalue()

    again = StringIO()
    call_command("aftersales_demo", stdout=again)
    assert "already exist" in again.getvalue()
    assert claims.count() == 7
