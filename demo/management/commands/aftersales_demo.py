"""Seed the demo shop: a known customer with paid, fulfilled orders and claims in
several states, all made through Saleor's own code and the plugin's workflow."""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db.models import Q
from saleor.account.models import User
from saleor.product.models import ProductVariant

from demo import shop
from saleor_aftersales import policies, refunds, workflow
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.enums import RefundMethod
from saleor_aftersales.models import AftersalesRequest, WarrantyCard
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.warranty import display_code

GUEST_EMAIL = "guest@example.com"
CUSTOMER_EMAIL = "customer@example.com"
CUSTOMER_PASSWORD = "customer"
STAFF_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create the demo customer, orders and claims (once)."

    def handle(self, *args, **options):
        staff = User.objects.get(email=STAFF_EMAIL)
        customer = User.objects.filter(email=CUSTOMER_EMAIL).first()
        if customer is None:
            customer = shop.make_customer(CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
        if AftersalesRequest.objects.filter(
            customer_ref=host.user_ref(customer)
        ).exists():
            self.stdout.write("Demo claims already exist.")
            return

        variants = list(
            ProductVariant.objects.filter(
                Q(price_override_amount__isnull=False) | Q(product__price_amount__gt=0),
                stocks__quantity__gte=20,
            )
            .select_related("product")
            .distinct()
            .order_by("pk")[:6]
        )
        orders = []
        for chunk in (variants[0:2], variants[2:4], variants[4:6]):
            warehouse = chunk[0].stocks.filter(quantity__gte=20).first().warehouse
            for variant in chunk[1:]:
                if not variant.stocks.filter(warehouse=warehouse).exists():
                    variant.stocks.create(warehouse=warehouse, quantity=50)
            orders.append(
                shop.fulfilled_paid_order(
                    customer, staff, warehouse, [(chunk[0], 2), (chunk[1], 1)]
                )
            )

        # A guest's order (no account): the portal finds it by number and e-mail.
        guest_order = shop.fulfilled_paid_order(
            None, staff, warehouse, [(chunk[0], 1)], guest_email=GUEST_EMAIL
        )

        settings = get_settings()
        as_customer = workflow.Actor.customer(customer)
        as_staff = workflow.Actor.staff(staff)

        def claim(order, quantity, reason, note):
            line = order.lines.order_by("pk").first()
            return workflow.create_request(
                host.order_facts(order),
                type="return",
                lines=[workflow.ClaimLineInput(host.ref(line.pk), quantity, reason)],
                by=as_customer,
                settings=settings,
                customer_note=note,
            )

        claim(orders[0], 1, "size_or_fit", "Too small, I need the next size.")

        waiting = claim(orders[1], 1, "defective", "The zip broke on the first day.")
        workflow.request_info(waiting, by=as_staff, note="Could you send a photo?")

        on_the_way = claim(orders[2], 1, "not_as_described", "Different colour.")
        workflow.approve(on_the_way, by=as_staff, note="Send it back with the label.")

        done = claim(orders[0], 1, "defective", "Stitching came apart.")
        workflow.approve(done, by=as_staff)
        workflow.receive(done, by=as_staff)
        refunds.refund_request(done, by=as_staff, settings=settings)

        # An exchange for a fresh unit of the same item, on its way back.
        swap_line = orders[1].lines.order_by("pk").last()
        swap = workflow.create_request(
            host.order_facts(orders[1]),
            type="exchange",
            lines=[
                workflow.ClaimLineInput(
                    host.ref(swap_line.pk),
                    1,
                    "defective",
                    replacement_variant=swap_line.variant,
                )
            ],
            by=as_customer,
            settings=settings,
            customer_note="Please send a working one.",
        )
        workflow.approve(swap, by=as_staff)

        # A repair under warranty, received at the desk and being repaired.
        repair_line = orders[2].lines.order_by("pk").first()
        card = WarrantyCard.objects.filter(
            order_line__host_id=host.ref(repair_line.pk)
        ).first()
        repair = workflow.create_request(
            host.order_facts(orders[2]),
            type="repair",
            lines=[
                workflow.ClaimLineInput(
                    host.ref(repair_line.pk),
                    1,
                    "defective",
                    "Stopped working",
                    serial_number="SN-DEMO-1",
                )
            ],
            by=as_customer,
            settings=settings,
            warranty_card=card,
        )
        workflow.approve(repair, by=as_staff)
        workflow.receive(repair, by=as_staff, condition="Light scratches")
        workflow.create_quote(repair, by=as_staff, lines=[], under_warranty=True)

        # The first product's type has terms of its own; a changed-mind return of
        # the last order settled as store credit (a Saleor gift card).
        policies.save_policy(
            host.ref(variants[0].product.product_type_id),
            {"return_window_days": 60, "restocking_fee_percent": Decimal("10")},
        )
        credit_line = orders[2].lines.order_by("pk").last()
        credit = workflow.create_request(
            host.order_facts(orders[2]),
            type="return",
            lines=[
                workflow.ClaimLineInput(host.ref(credit_line.pk), 1, "changed_mind")
            ],
            by=as_customer,
            settings=settings,
            customer_note="Store credit is fine.",
        )
        workflow.approve(credit, by=as_staff)
        store_credit = refunds.refund_request(
            credit, by=as_staff, settings=settings, method=RefundMethod.STORE_CREDIT
        )

        for order in orders:
            self.stdout.write(
                f"Order #{order.pk} of {CUSTOMER_EMAIL} (sign in) total "
                f"{order.total_gross_amount.quantize(Decimal('0.01'))} {order.currency}"
            )
        self.stdout.write(
            f"Guest order #{guest_order.pk}: find it in the portal with {GUEST_EMAIL}"
        )
        self.stdout.write(
            "Claims: "
            + str(
                AftersalesRequest.objects.filter(
                    customer_ref=host.user_ref(customer)
                ).count()
            )
        )
        self.stdout.write(
            f"Warranty card to verify: {display_code(card.code)} (warrantyCardVerify)"
        )
        gift_card = host.gift_cards_by_ref([store_credit.gift_card_ref])[
            store_credit.gift_card_ref
        ]
        self.stdout.write(f"Store credit gift card: {gift_card.code}")
