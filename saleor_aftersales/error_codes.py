"""Error codes the services raise; the GraphQL layer exposes them as AftersalesErrorCode."""

from enum import Enum
from typing import Optional

from django.core.exceptions import ValidationError


class AftersalesErrorCode(Enum):
    GRAPHQL_ERROR = "graphql_error"
    INVALID = "invalid"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    NOT_FULFILLED = "not_fulfilled"
    QUANTITY_NOT_POSITIVE = "quantity_not_positive"
    QUANTITY_EXCEEDED = "quantity_exceeded"
    LINE_NOT_IN_ORDER = "line_not_in_order"
    LINE_NOT_IN_REQUEST = "line_not_in_request"
    DUPLICATED_LINE = "duplicated_line"
    OUTSIDE_WINDOW = "outside_window"
    FINAL_SALE = "final_sale"
    POLICY_OVERRIDE_REQUIRED = "policy_override_required"
    INVALID_STATUS = "invalid_status"
    ALREADY_APPEALED = "already_appealed"
    NOTHING_APPROVED = "nothing_approved"
    NOTHING_TO_REFUND = "nothing_to_refund"
    AMOUNT_EXCEEDED = "amount_exceeded"
    AMOUNT_NOT_POSITIVE = "amount_not_positive"
    SHIPPING_NOT_REFUNDABLE = "shipping_not_refundable"
    NO_PAYMENT = "no_payment"
    PAYMENT_FAILED = "payment_failed"
    REFUND_IN_PROGRESS = "refund_in_progress"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    NO_WAREHOUSE = "no_warehouse"
    NOT_STAFF = "not_staff"
    INVALID_CODE = "invalid_code"
    REPLACEMENT_NOT_ALLOWED = "replacement_not_allowed"
    OUT_OF_STOCK = "out_of_stock"
    WARRANTY_CARD_MISMATCH = "warranty_card_mismatch"
    QUOTE_NOT_PAID = "quote_not_paid"
    ALREADY_RATED = "already_rated"
    THROTTLED = "throttled"
    FILE_TOO_LARGE = "file_too_large"
    IMAGE_TOO_LARGE = "image_too_large"
    INVALID_FILE_TYPE = "invalid_file_type"
    TOO_MANY_FILES = "too_many_files"
    INVALID_LINK = "invalid_link"


def aftersales_error(
    field: Optional[str], message: str, code: AftersalesErrorCode
) -> ValidationError:
    """A ValidationError carrying one of our codes, on ``field`` (the service's own
    snake_case name, e.g. ``idempotency_key``; the GraphQL layer names it as the API
    does, in one place: ``graphql.mutations.base.errors_of``) or on the whole."""
    error = ValidationError(message, code=code.value)
    return ValidationError({field: error}) if field else error
