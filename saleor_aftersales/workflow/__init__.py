"""The claim workflow: one function per transition, the only writer of status.

Each transition locks the claim row, checks the statuses it may start from, writes
the new state and one immutable ``AftersalesEvent`` and mirrors the step into the
Saleor order timeline, all in one transaction. Query counts do not depend on the
number of lines (bulk writes only).

One module per seam: ``creation``, ``review``, ``goods``, ``exchanges``,
``repairs`` and ``desk``, on the machinery of ``steps``; callers use the names
below (``workflow.approve(request, by=...)``). The statuses each step may start
from are declared once, in ``actions.STARTS``, which also answers what a viewer
may do to a claim now (``available_actions``).
"""

from ..actors import Actor  # noqa: F401
from .actions import (  # noqa: F401
    STARTS,
    available_actions,
    may,
    starts,
)
from .steps import (  # noqa: F401
    Change,
    ClaimLineInput,
    ReceivedLineInput,
    lock_claim,
)
from .creation import (  # noqa: F401
    create_request,
)
from .review import (  # noqa: F401
    appeal,
    approve,
    cancel,
    provide_info,
    reject,
    request_info,
)
from .goods import (  # noqa: F401
    close,
    receive,
    record_external_refund,
    record_refund,
    record_refund_failure,
)
from .exchanges import (  # noqa: F401
    fulfill_exchange,
)
from .repairs import (  # noqa: F401
    QuoteLineInput,
    create_quote,
    respond_to_quote,
    update_repair,
)
from .desk import (  # noqa: F401
    add_note,
    assign,
    rate,
    record_sla_breach,
)
