"""Invariants under random histories: hypothesis drives the workflow's services
(create, approve, reject, appeal, cancel, receive, refund) in any order with any
quantities and amounts, on a real order paid through Saleor's Dummy gateway.
Refusals are expected; after every step the books must still balance.
"""

import os
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from demo import shop
from saleor_aftersales import refunds, workflow
from saleor_aftersales.enums import RequestStatus
from saleor_aftersales.models import AftersalesEvent, AftersalesLine, AftersalesRefund
from saleor_aftersales.plugin import get_settings

REASONS = ["defective", "changed_mind", "size_or_fit", "wrong_item"]


class ClaimHistories(RuleBasedStateMachine):
    claims = Bundle("claims")

    def __init__(self):
        super().__init__()
        fixtures = type(self).fixtures
        self.customer = fixtures["customer"]
        self.staff = workflow.Actor.staff(fixtures["staff_user"])
        self.order = shop.fulfilled_paid_order(
            self.customer,
            fixtures["staff_user"],
            fixtures["warehouse"],
            [(fixtures["variants"][0], 3), (fixtures["variants"][1], 2)],
        )
        self.payment = self.order.payments.get()
        self.captured = self.payment.captured_amount
        self.lines = list(self.order.lines.order_by("pk"))
        self.settings = get_settings()

    def attempt(self, step):
        try:
            return step()
        except ValidationError:
            return None  # a refusal, with its code: allowed, must change nothing

    @initialize()
    def start(self):
        pass

    @rule(
        target=claims,
        picks=st.lists(
            st.tuples(st.integers(0, 1), st.integers(1, 3), st.sampled_from(REASONS)),
            min_size=1,
            max_size=2,
            unique_by=lambda pick: pick[0],
        ),
    )
    def create(self, picks):
        lines = [
            workflow.ClaimLineInput(self.lines[index], quantity, reason)
            for index, quantity, reason in picks
        ]
        request = self.attempt(
            lambda: workflow.create_request(
                self.order,
                type="return",
                lines=lines,
                by=workflow.Actor.customer(self.customer),
                settings=self.settings,
            )
        )
        return request.pk if request else None

    def claim(self, pk):
        from saleor_aftersales.models import AftersalesRequest

        return AftersalesRequest.objects.filter(pk=pk).first() if pk else None

    @rule(pk=claims, share=st.integers(1, 3))
    def approve(self, pk, share):
        request = self.claim(pk)
        if request is None:
            return
        quantities = {
            line.pk: min(line.quantity_requested, share) for line in request.lines.all()
        }
        self.attempt(
            lambda: workflow.approve(request, by=self.staff, quantities=quantities)
        )

    @rule(pk=claims)
    def reject(self, pk):
        request = self.claim(pk)
        if request:
            self.attempt(
                lambda: workflow.reject(request, by=self.staff, reason="not_eligible")
            )

    @rule(pk=claims)
    def appeal(self, pk):
        request = self.claim(pk)
        if request:
            self.attempt(
                lambda: workflow.appeal(
                    request, by=workflow.Actor.customer(self.customer), note="Please"
                )
            )

    @rule(pk=claims)
    def cancel(self, pk):
        request = self.claim(pk)
        if request:
            self.attempt(
                lambda: workflow.cancel(
                    request, by=workflow.Actor.customer(self.customer)
                )
            )

    @rule(pk=claims, units=st.integers(0, 3))
    def receive(self, pk, units):
        request = self.claim(pk)
        if request is None:
            return
        arrived = [
            workflow.ReceivedLineInput(line, min(units, line.quantity_awaiting))
            for line in request.lines.all()
            if min(units, line.quantity_awaiting) > 0
        ]
        self.attempt(
            lambda: workflow.receive(request, by=self.staff, lines=arrived or None)
        )

    @rule(
        pk=claims,
        # The default, or amounts around what one to five units, the shipping and
        # the whole payment are worth.
        amount=st.one_of(
            st.none(),
            st.sampled_from(["0.01", "19.99", "24.99", "25.00", "45.00", "104.95"]).map(
                Decimal
            ),
            st.decimals("0.01", "200.00", places=2, allow_nan=False),
        ),
        key=st.sampled_from(["a", "b", "c"]),
    )
    def refund(self, pk, amount, key):
        request = self.claim(pk)
        if request:
            self.attempt(
                lambda: refunds.refund_request(
                    request,
                    by=self.staff,
                    settings=self.settings,
                    amount=amount,
                    idempotency_key=f"{self.order.pk}-{pk}-{key}",
                )
            )

    @invariant()
    def money_balances(self):
        paid = AftersalesRefund.objects.filter(
            request__order=self.order, status="success"
        ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
        self.payment.refresh_from_db()
        assert paid <= self.captured
        assert self.payment.captured_amount == self.captured - paid
        assert not AftersalesRefund.objects.filter(
            request__order=self.order, status="pending"
        ).exists()

    @invariant()
    def no_claim_gets_more_than_its_units_are_worth(self):
        from saleor_aftersales.models import AftersalesRequest

        shipping = self.order.shipping_price_gross_amount
        for request in AftersalesRequest.objects.filter(order=self.order):
            worth = sum(
                (
                    l.unit_price_gross_amount * l.quantity_approved
                    for l in request.lines.all()
                ),
                Decimal("0"),
            )
            paid = request.refunds.filter(status="success").aggregate(
                total=Sum("amount")
            )["total"] or Decimal("0")
            assert paid <= worth + shipping, (request, paid, worth)

    @invariant()
    def units_add_up(self):
        lines = AftersalesLine.objects.filter(request__order=self.order).select_related(
            "request", "order_line"
        )
        approved = {}
        for line in lines:
            assert line.quantity_received <= line.quantity_approved
            assert line.quantity_approved <= line.quantity_requested
            assert line.quantity_requested <= line.order_line.quantity_fulfilled
            assert line.quantity_refunded <= line.quantity_approved
            if line.request.status not in RequestStatus.RELEASED:
                approved[line.order_line_id] = (
                    approved.get(line.order_line_id, 0) + line.quantity_approved
                )
        # Approved units across all live claims never exceed what was delivered
        # (an appeal may ask again for units another claim took meanwhile).
        for order_line in self.lines:
            assert approved.get(order_line.pk, 0) <= order_line.quantity_fulfilled

    @invariant()
    def statuses_match_lines_and_events_are_ordered(self):
        from saleor_aftersales.models import AftersalesRequest

        for request in AftersalesRequest.objects.filter(order=self.order):
            lines = list(request.lines.all())
            if request.status == RequestStatus.RESOLVED:
                assert all(l.quantity_settled >= l.quantity_approved for l in lines)
            if request.status in (RequestStatus.APPROVED, RequestStatus.RECEIVED):
                assert any(l.quantity_approved for l in lines)
            events = list(
                AftersalesEvent.objects.filter(request=request).order_by("pk")
            )
            assert events[0].type == "created"
            assert all(a.created_at <= b.created_at for a, b in zip(events, events[1:]))
            assert events[-1].to_status == request.status


@pytest.mark.django_db
def test_any_history_keeps_money_units_and_statuses_consistent(
    customer, staff_user, warehouse
):
    ClaimHistories.fixtures = {
        "customer": customer,
        "staff_user": staff_user,
        "warehouse": warehouse,
        # One order per history: plenty of stock for all of them.
        "variants": shop.make_variants(
            2, warehouse, price=Decimal("19.99"), stock=100000
        ),
    }
    run_state_machine_as_test(
        ClaimHistories,
        settings=settings(
            max_examples=int(os.environ.get("AFTERSALES_HISTORIES", "60")),
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )
