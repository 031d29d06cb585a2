"""Invariants under random histories: hypothesis drives the workflow's services
(create, approve, reject, appeal, cancel, receive, refund, store credit) in any
order with any quantities and amounts, on a real order paid through Saleor's Dummy
gateway. Refusals are expected; after every step the books must still balance.

Steps act on claims that exist (picked by index from those created), and one rule
advances a claim through approve, receive and refund at once, so deep states are
reached in most histories rather than by luck; the test prints how often each
step went through. `bin/mutants` checks the machine's power: it plants known
bugs in the services and expects every one to be caught.

AFTERSALES_HISTORIES sets how many histories run (default 60, the run whose
figures docs/RELIABILITY.md shows).
"""

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from demo import shop
from saleor_aftersales import refunds, workflow
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.enums import (
    RefundMethod,
    RefundStatus,
    RejectReason,
    RequestStatus,
)
from saleor_aftersales.models import AftersalesRefund, AftersalesRequest
from saleor_aftersales.configuration import get_settings

from . import books

REASONS = ["defective", "changed_mind", "size_or_fit", "wrong_item"]
OUTCOMES = Counter()  # (step, "went through" or the refusal's codes) -> times
FINISHED = (RequestStatus.RESOLVED, RequestStatus.CLOSED, RequestStatus.CANCELLED)
REJECT_REASONS = [choice for choice, _ in RejectReason.CHOICES]
HISTORIES = int(os.environ.get("AFTERSALES_HISTORIES", "60"))
STEPS = int(os.environ.get("AFTERSALES_HISTORY_STEPS", "20"))

# The default, or amounts around what one to five units (19.99 each), the shipping
# and the whole payment are worth, or anything.
AMOUNTS = st.one_of(
    st.none(),
    st.sampled_from(
        ["0.01", "19.99", "24.99", "25.00", "39.98", "45.00", "144.93"]
    ).map(Decimal),
    st.decimals("0.01", "200.00", places=2, allow_nan=False),
)
# Lines (by index), units and reasons of a new claim.
PICKS = st.lists(
    st.tuples(st.integers(0, 1), st.integers(1, 3), st.sampled_from(REASONS)),
    min_size=1,
    max_size=2,
    unique_by=lambda pick: pick[0],
)
SHARES = st.none() | st.lists(st.integers(0, 4), min_size=1, max_size=2)
UNITS = st.none() | st.integers(0, 4)  # all that is awaited, or this many per line
METHODS = st.sampled_from([RefundMethod.REFUND, RefundMethod.STORE_CREDIT])
# What runs at the same moment as a refund of the same claim.
PARTNERS = st.sampled_from(["refund", "refund", "store_credit", "receive", "cancel"])
COUNTING = threading.Lock()
PERSISTENCE = 40  # attempts of a racing desk while a refund is in progress
has_claims = precondition(lambda machine: machine.claims)


def codes(error: ValidationError) -> set:
    if hasattr(error, "error_dict"):
        errors = [e for field in error.error_dict.values() for e in field]
    else:
        errors = error.error_list
    return {str(e.code) for e in errors}


class ClaimHistories(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        fixtures = type(self).fixtures
        self.customer = workflow.Actor.customer(fixtures["customer"])
        self.staff = workflow.Actor.staff(fixtures["staff_user"])
        self.order = shop.fulfilled_paid_order(
            fixtures["customer"],
            fixtures["staff_user"],
            fixtures["warehouse"],
            [(fixtures["variants"][0], 4), (fixtures["variants"][1], 3)],
        )
        self.payment = self.order.payments.get()
        self.captured = self.payment.captured_amount
        self.lines = list(self.order.lines.order_by("pk"))
        self.settings = get_settings()
        self.claims = []  # pks of the claims created so far, oldest first
        self.keys = 0

    def attempt(self, name, step):
        """Run one step; a refusal, with its code, is allowed and must change
        nothing. Outcomes are counted to show the machine's reach."""
        try:
            result = step()
        except ValidationError as error:
            with COUNTING:
                OUTCOMES[name, ", ".join(sorted(codes(error)))] += 1
            return None
        with COUNTING:
            OUTCOMES[name, "went through"] += 1
        return result

    def claim(self, index):
        """Low indexes pick among the open claims, newest first (the likeliest to
        take another step); high ones among all, finished ones too."""
        pks = self.claims
        if index < 6:
            finished = AftersalesRequest.objects.filter(
                pk__in=pks, status__in=FINISHED
            ).values_list("pk", flat=True)
            pks = [pk for pk in pks if pk not in set(finished)] or pks
        return AftersalesRequest.objects.get(pk=pks[-1 - index % len(pks)])

    def key(self, reuse):
        """A fresh idempotency key, or (reuse) the last one again."""
        if not reuse:
            self.keys += 1
        return f"{self.order.pk}-{self.keys}"

    # Hypothesis favours the rule it sorts first (fewest arguments, then name):
    # `advance`, the way most claims go, has that place.

    @has_claims
    @rule(plan=st.tuples(st.integers(0, 9), SHARES, UNITS, AMOUNTS, METHODS))
    def advance(self, plan):
        """Approve, receive (all, or a first parcel) and refund one claim in a
        row, each step allowed to be refused."""
        index, shares, units, amount, method = plan
        self.approve(index, shares)
        self.receive(index, units)
        self.refund(index, amount, method, False)

    @rule(picks=PICKS, by_staff=st.booleans())
    def create(self, picks, by_staff):
        """The customer files a claim, or staff file it for them."""
        request = self.attempt(
            "create",
            lambda: workflow.create_request(
                host.order_facts(self.order),
                type="return",
                lines=[
                    workflow.ClaimLineInput(
                        host.ref(self.lines[index].pk), quantity, reason
                    )
                    for index, quantity, reason in picks
                ],
                by=self.staff if by_staff else self.customer,
                settings=self.settings,
            ),
        )
        if request:
            self.claims.append(request.pk)

    @has_claims
    @rule(index=st.integers(0, 9), shares=SHARES)
    def approve(self, index, shares):
        """Approve as requested (None) or these units of the first lines, out of
        range too."""
        request = self.claim(index)
        quantities = None
        if shares is not None:
            lines = request.lines.order_by("pk")
            quantities = {line.pk: share for line, share in zip(lines, shares)}
        self.attempt(
            "approve",
            lambda: workflow.approve(request, by=self.staff, quantities=quantities),
        )

    @has_claims
    @rule(index=st.integers(0, 9), reason=st.sampled_from(REJECT_REASONS))
    def reject(self, index, reason):
        request = self.claim(index)
        self.attempt(
            "reject", lambda: workflow.reject(request, by=self.staff, reason=reason)
        )

    @has_claims
    @rule(index=st.integers(0, 9), picks=PICKS)
    def refile(self, index, picks):
        """The desk rejects a claim; the customer files another for some of the
        same units, and appeals the first."""
        rejected = self.claim(index)
        self.attempt(
            "reject",
            lambda: workflow.reject(
                rejected, by=self.staff, reason=RejectReason.NOT_ELIGIBLE
            ),
        )
        self.create(picks, False)
        self.attempt(
            "appeal",
            lambda: workflow.appeal(rejected, by=self.customer, note="It is faulty"),
        )
        # The desk gives in: the appealed claim may not take units the new one
        # holds.
        self.attempt("approve", lambda: workflow.approve(rejected, by=self.staff))

    @has_claims
    @rule(
        index=st.integers(0, 9),
        note=st.sampled_from(["Please look again", "It is faulty", " "]),
    )
    def appeal(self, index, note):
        request = self.claim(index)
        self.attempt(
            "appeal", lambda: workflow.appeal(request, by=self.customer, note=note)
        )

    @has_claims
    @rule(index=st.integers(0, 9))
    def cancel(self, index):
        request = self.claim(index)
        self.attempt("cancel", lambda: workflow.cancel(request, by=self.customer))

    @has_claims
    @rule(index=st.integers(0, 9), units=UNITS)
    def receive(self, index, units):
        """All that is awaited (None) or ``units`` of each line, which may be more
        than awaited."""
        request = self.claim(index)
        arrived = None
        if units is not None:
            arrived = [
                workflow.ReceivedLineInput(line, units) for line in request.lines.all()
            ]
        self.attempt(
            "receive", lambda: workflow.receive(request, by=self.staff, lines=arrived)
        )

    @has_claims
    @rule(index=st.integers(0, 9), amount=AMOUNTS, method=METHODS, reuse=st.booleans())
    def refund(self, index, amount, method, reuse):
        request = self.claim(index)
        self.attempt(
            "refund",
            lambda: refunds.refund_request(
                request,
                by=self.staff,
                settings=self.settings,
                amount=amount,
                method=method,
                idempotency_key=self.key(reuse),
            ),
        )

    @has_claims
    @rule(index=st.integers(0, 9), amount=AMOUNTS, method=METHODS)
    def parcels(self, index, amount, method):
        """The goods come back in two parcels, each refunded when it arrives."""
        self.approve(index, None)
        self.receive(index, 1)
        self.refund(index, amount, method, False)
        self.receive(index, None)
        self.refund(index, None, method, False)

    @has_claims
    @rule(
        index=st.integers(0, 9),
        partners=st.lists(PARTNERS, min_size=1, max_size=3),
        amount=AMOUNTS,
    )
    def race(self, index, partners, amount):
        """A refund of a claim and other steps on it at the same moment, each from
        its own database connection and with its own key (the desk clicking
        twice, the courier's webhook, the sweeper)."""
        request = self.claim(index)
        self.approve(index, None)
        staff, settings = self.staff, self.settings

        def pay(method, amount):
            """A desk that clicks again, with a new key, while it is told a
            refund is in progress: its attempts reach every moment of the other
            refund's life, the one between its success and its settling too."""
            keys = [self.key(False) for _ in range(PERSISTENCE)]

            def step():
                for key in keys:
                    try:
                        return refunds.refund_request(
                            request,
                            by=staff,
                            settings=settings,
                            amount=amount,
                            method=method,
                            idempotency_key=key,
                        )
                    except ValidationError as error:
                        if codes(error) != {"refund_in_progress"}:
                            raise
                return refunds.refund_request(  # one last try, refused as it is
                    request,
                    by=staff,
                    settings=settings,
                    amount=amount,
                    method=method,
                    idempotency_key=self.key(False),
                )

            return step

        steps = {
            "refund": lambda: pay(RefundMethod.REFUND, None),
            "store_credit": lambda: pay(RefundMethod.STORE_CREDIT, None),
            "receive": lambda: lambda: workflow.receive(request, by=staff),
            "cancel": lambda: lambda: workflow.cancel(request, by=self.customer),
        }
        calls = [("race refund", pay(RefundMethod.REFUND, amount))] + [
            (f"race {name}", steps[name]()) for name in partners
        ]
        barrier = threading.Barrier(len(calls))

        def run(call):
            name, step = call
            try:
                barrier.wait()
                return self.attempt(name, step)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            list(pool.map(run, calls))

    @invariant()
    def books_balance(self):
        money_balances(self.order, self.captured)
        claims_within_worth(self.order)
        units_add_up(self.order)
        statuses_and_events_agree(self.order)


# The invariants, for one order; tests/test_fuzzing.py checks them after fuzzing.


def money_balances(order, captured):
    """The payment gave back exactly what was refunded to it; store credit stays
    captured but counts against what can still go back. Nothing is left PENDING."""
    settled = AftersalesRefund.objects.filter(
        request__order__host_id=host.ref(order.pk), status=RefundStatus.SUCCESS
    )
    paid = settled.filter(method=RefundMethod.REFUND).aggregate(total=Sum("amount"))
    given = settled.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    payment = order.payments.get()
    assert payment.captured_amount == captured - (paid["total"] or Decimal("0"))
    assert given <= captured
    assert not AftersalesRefund.objects.filter(
        request__order__host_id=host.ref(order.pk), status=RefundStatus.PENDING
    ).exists()


def claims_within_worth(order):
    """No claim got more than its approved units, plus the shipping, are worth."""
    books.claims_within_worth(host.ref(order.pk), order.shipping_price_gross_amount)


def units_add_up(order):
    """received <= approved <= requested <= delivered minus other claims."""
    books.units_add_up(
        host.ref(order.pk),
        {host.ref(line.pk): line.quantity_fulfilled for line in order.lines.all()},
    )


def statuses_and_events_agree(order):
    """Statuses match the lines; events run in order, each step starting where the
    last one ended, the last ending at the claim's status."""
    books.statuses_and_events_agree(host.ref(order.pk))


# Racing steps run on connections of their own: they must see committed data.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_any_history_keeps_money_units_and_statuses_consistent(
    customer, staff_user, warehouse
):
    OUTCOMES.clear()
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
            max_examples=HISTORIES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            # The same histories every run (CI stays steady); set
            # AFTERSALES_HISTORIES_RANDOM=1 to explore new ones.
            derandomize=not os.environ.get("AFTERSALES_HISTORIES_RANDOM"),
            # bin/mutants only asks whether a history fails, not for the shortest.
            phases=(
                [Phase.generate]
                if os.environ.get("AFTERSALES_HISTORIES_NO_SHRINK")
                else list(Phase)
            ),
        ),
    )
    steps = sorted({step for step, _ in OUTCOMES})
    print("\nstep: went through / refused (codes)")
    for step in steps:
        refusals = {o: n for (s, o), n in OUTCOMES.items() if s == step}
        through = refusals.pop("went through", 0)
        print(f"{step}: {through} / {sum(refusals.values())} {refusals}")
    # Every step was both taken and refused somewhere: the histories reach the
    # whole workflow, not only its first refusals.
    for step in ("create", "approve", "reject", "appeal", "cancel", "receive"):
        assert OUTCOMES[step, "went through"], step
    assert OUTCOMES["race refund", "went through"], "no racing refund ever paid"
    assert OUTCOMES["refund", "went through"] >= HISTORIES // 2
