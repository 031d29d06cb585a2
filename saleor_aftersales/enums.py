"""Closed vocabularies of the after-sales domain (stored as their lowercase values)."""


class RequestType:
    RETURN = "return"
    EXCHANGE = "exchange"
    REPAIR = "repair"

    CHOICES = [(RETURN, "Return"), (EXCHANGE, "Exchange"), (REPAIR, "Repair")]


class RequestStatus:
    REQUESTED = "requested"
    NEEDS_INFO = "needs_info"
    APPEALED = "appealed"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    RECEIVED = "received"
    QUOTED = "quoted"
    IN_REPAIR = "in_repair"
    RESOLVED = "resolved"
    CLOSED = "closed"

    CHOICES = [
        (REQUESTED, "Requested"),
        (NEEDS_INFO, "Needs information"),
        (APPEALED, "Appealed"),
        (APPROVED, "Approved"),
        (REJECTED, "Rejected"),
        (CANCELLED, "Cancelled"),
        (RECEIVED, "Received"),
        (QUOTED, "Quoted"),
        (IN_REPAIR, "In repair"),
        (RESOLVED, "Resolved"),
        (CLOSED, "Closed"),
    ]

    # Waiting for a staff decision: units are held at their requested quantity.
    PENDING = (REQUESTED, NEEDS_INFO, APPEALED)
    # No units held at all.
    RELEASED = (REJECTED, CANCELLED)
    # Settled by the desk: the resolution clock stops here.
    CONCLUDED = (REJECTED, RESOLVED, CLOSED)
    # Nothing more is owed by the desk; never overdue.
    FINISHED = (REJECTED, CANCELLED, RESOLVED, CLOSED)


class Reason:
    DEFECTIVE = "defective"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    SIZE_OR_FIT = "size_or_fit"
    CHANGED_MIND = "changed_mind"
    MISSING_PARTS = "missing_parts"
    OTHER = "other"

    CHOICES = [
        (DEFECTIVE, "Defective"),
        (DAMAGED_IN_TRANSIT, "Damaged in transit"),
        (WRONG_ITEM, "Wrong item"),
        (NOT_AS_DESCRIBED, "Not as described"),
        (SIZE_OR_FIT, "Size or fit"),
        (CHANGED_MIND, "Changed mind"),
        (MISSING_PARTS, "Missing parts"),
        (OTHER, "Other"),
    ]

    # The customer's own choice, not the shop's fault: the shorter changed-mind
    # window and the restocking fee apply to these.
    DISCRETIONARY = (SIZE_OR_FIT, CHANGED_MIND)


class Ineligibility:
    """Why a line can't be claimed (as a return or exchange) today."""

    NOT_FULFILLED = "not_fulfilled"
    FINAL_SALE = "final_sale"
    WINDOW_CLOSED = "window_closed"
    ALL_UNITS_CLAIMED = "all_units_claimed"

    CHOICES = [
        (NOT_FULFILLED, "Not delivered yet"),
        (FINAL_SALE, "Final sale"),
        (WINDOW_CLOSED, "The window has closed"),
        (ALL_UNITS_CLAIMED, "Every unit is already in a claim"),
    ]


class RejectReason:
    OUTSIDE_WINDOW = "outside_window"
    NOT_ELIGIBLE = "not_eligible"
    FINAL_SALE = "final_sale"
    NO_DEFECT_FOUND = "no_defect_found"
    OTHER = "other"

    CHOICES = [
        (OUTSIDE_WINDOW, "Outside the return window"),
        (NOT_ELIGIBLE, "Not eligible"),
        (FINAL_SALE, "Final sale"),
        (NO_DEFECT_FOUND, "No defect found"),
        (OTHER, "Other"),
    ]


class Disposition:
    RESTOCK = "restock"
    DAMAGED = "damaged"
    MISSING = "missing"

    CHOICES = [(RESTOCK, "Restock"), (DAMAGED, "Damaged"), (MISSING, "Missing")]


class Resolution:
    REFUND = "refund"
    STORE_CREDIT = "store_credit"
    REPLACEMENT = "replacement"
    REPAIR = "repair"

    CHOICES = [
        (REFUND, "Refund"),
        (STORE_CREDIT, "Store credit"),
        (REPLACEMENT, "Replacement"),
        (REPAIR, "Repair"),
    ]


class ActorType:
    STAFF = "staff"
    APP = "app"
    CUSTOMER = "customer"
    SYSTEM = "system"

    CHOICES = [
        (STAFF, "Staff"),
        (APP, "App"),
        (CUSTOMER, "Customer"),
        (SYSTEM, "System"),
    ]


class EventType:
    CREATED = "created"
    INFO_REQUESTED = "info_requested"
    INFO_PROVIDED = "info_provided"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPEALED = "appealed"
    CANCELLED = "cancelled"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REFUND_FAILED = "refund_failed"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ASSIGNED = "assigned"
    NOTE_ADDED = "note_added"
    EXCHANGE_FULFILLED = "exchange_fulfilled"
    SLA_BREACHED = "sla_breached"
    POLICY_OVERRIDDEN = "policy_overridden"
    QUOTED = "quoted"
    QUOTE_ACCEPTED = "quote_accepted"
    QUOTE_DECLINED = "quote_declined"
    REPAIR_UPDATED = "repair_updated"
    RATED = "rated"

    CHOICES = [
        (CREATED, "Created"),
        (INFO_REQUESTED, "Information requested"),
        (INFO_PROVIDED, "Information provided"),
        (APPROVED, "Approved"),
        (REJECTED, "Rejected"),
        (APPEALED, "Appealed"),
        (CANCELLED, "Cancelled"),
        (RECEIVED, "Received"),
        (REFUNDED, "Refunded"),
        (REFUND_FAILED, "Refund failed"),
        (RESOLVED, "Resolved"),
        (CLOSED, "Closed"),
        (ASSIGNED, "Assigned"),
        (NOTE_ADDED, "Note added"),
        (EXCHANGE_FULFILLED, "Replacement sent"),
        (SLA_BREACHED, "Service level breached"),
        (POLICY_OVERRIDDEN, "Policy overridden"),
        (QUOTED, "Quoted"),
        (QUOTE_ACCEPTED, "Quote accepted"),
        (QUOTE_DECLINED, "Quote declined"),
        (REPAIR_UPDATED, "Repair updated"),
        (RATED, "Rated"),
    ]

    # Internal to the shop: never shown to the customer.
    STAFF_ONLY = (ASSIGNED, NOTE_ADDED, REFUND_FAILED, SLA_BREACHED, POLICY_OVERRIDDEN)


class RefundStatus:
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"

    CHOICES = [(PENDING, "Pending"), (SUCCESS, "Success"), (FAILED, "Failed")]


class RefundMethod:
    REFUND = "refund"
    STORE_CREDIT = "store_credit"

    CHOICES = [
        (REFUND, "Refund to the original payment"),
        (STORE_CREDIT, "Store credit"),
    ]


class UsageUnit:
    KM = "km"
    HOURS = "hours"

    CHOICES = [(KM, "Kilometres"), (HOURS, "Operating hours")]


class WarrantyStatus:
    VALID = "valid"
    EXPIRED = "expired"
    VOID = "void"

    CHOICES = [(VALID, "Valid"), (EXPIRED, "Expired"), (VOID, "Void")]


class WarrantyEndedBy:
    """Which limit of the terms a card no longer meets."""

    DATE = "date"
    USAGE = "usage"
    VOID = "void"

    CHOICES = [
        (DATE, "End date passed"),
        (USAGE, "Usage limit passed"),
        (VOID, "Voided"),
    ]


class WarrantyEventType:
    EXTENDED = "extended"
    VOIDED = "voided"
    SERIAL_NUMBER_RECORDED = "serial_number_recorded"

    CHOICES = [
        (EXTENDED, "Extended"),
        (VOIDED, "Voided"),
        (SERIAL_NUMBER_RECORDED, "Serial number recorded"),
    ]


class QuoteLineKind:
    PART = "part"
    LABOR = "labor"

    CHOICES = [(PART, "Part"), (LABOR, "Labor")]


class HandBackMethod:
    PICKUP = "pickup"
    SHIPMENT = "shipment"

    CHOICES = [(PICKUP, "Picked up at the desk"), (SHIPMENT, "Shipped back")]


class Action:
    """A step a viewer may take on a claim now (``availableActions``); each is one
    mutation. The statuses each may start from are in ``workflow/actions.py``."""

    # The customer's (signed in, or a guest with the order's token)
    CANCEL = "cancel"
    APPEAL = "appeal"
    PROVIDE_INFO = "provide_info"
    ACCEPT_QUOTE = "accept_quote"
    DECLINE_QUOTE = "decline_quote"
    RATE = "rate"
    UPLOAD_PHOTO = "upload_photo"
    # The desk's (staff and apps with MANAGE_ORDERS)
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    RECEIVE = "receive"
    REFUND = "refund"
    FULFILL_EXCHANGE = "fulfill_exchange"
    CREATE_QUOTE = "create_quote"
    UPDATE_REPAIR = "update_repair"
    CLOSE = "close"
    ASSIGN = "assign"
    ADD_NOTE = "add_note"

    CHOICES = [
        (CANCEL, "Cancel (aftersalesRequestCancel)"),
        (APPEAL, "Appeal (aftersalesRequestAppeal)"),
        (PROVIDE_INFO, "Provide information (aftersalesRequestProvideInfo)"),
        (ACCEPT_QUOTE, "Accept the quote (repairQuoteRespond, accept: true)"),
        (DECLINE_QUOTE, "Decline the quote (repairQuoteRespond, accept: false)"),
        (RATE, "Rate (aftersalesRequestRate)"),
        (UPLOAD_PHOTO, "Add a photo (aftersalesPhotoUpload)"),
        (APPROVE, "Approve (aftersalesRequestApprove)"),
        (REJECT, "Reject (aftersalesRequestReject)"),
        (REQUEST_INFO, "Ask for information (aftersalesRequestRequestInfo)"),
        (RECEIVE, "Receive goods (aftersalesRequestReceive)"),
        (REFUND, "Refund (aftersalesRequestRefund)"),
        (FULFILL_EXCHANGE, "Send the replacement (exchangeRequestFulfill)"),
        (CREATE_QUOTE, "Quote the repair (repairQuoteCreate)"),
        (UPDATE_REPAIR, "Record repair progress (repairStatusUpdate)"),
        (CLOSE, "Close (aftersalesRequestClose)"),
        (ASSIGN, "Assign (aftersalesRequestAssign)"),
        (ADD_NOTE, "Add an internal note (aftersalesNoteAdd)"),
    ]

    CUSTOMER = (
        CANCEL,
        APPEAL,
        PROVIDE_INFO,
        ACCEPT_QUOTE,
        DECLINE_QUOTE,
        RATE,
        UPLOAD_PHOTO,
    )
    # Staff may attach evidence too (aftersalesPhotoUpload takes any claim's staff).
    DESK = (
        APPROVE,
        REJECT,
        REQUEST_INFO,
        RECEIVE,
        REFUND,
        FULFILL_EXCHANGE,
        CREATE_QUOTE,
        UPDATE_REPAIR,
        CLOSE,
        ASSIGN,
        ADD_NOTE,
        UPLOAD_PHOTO,
    )
