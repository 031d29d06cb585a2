"""GraphQL enums, built from the domain's choices (stored values are lowercase)."""

from enum import Enum as PyEnum

import graphene

from .. import enums
from ..error_codes import AftersalesErrorCode as _ErrorCode


def _enum(name: str, choices_cls, description: str) -> graphene.Enum:
    values = [(value.upper(), value) for value, _label in choices_cls.CHOICES]
    return graphene.Enum.from_enum(PyEnum(name, values), description=description)


AftersalesRequestType = _enum(
    "AftersalesRequestType", enums.RequestType, "Kind of claim."
)
AftersalesRequestStatus = _enum(
    "AftersalesRequestStatus", enums.RequestStatus, "Where a claim is in its workflow."
)
AftersalesReason = _enum(
    "AftersalesReason", enums.Reason, "Why the customer claims a line."
)
AftersalesRejectReason = _enum(
    "AftersalesRejectReason", enums.RejectReason, "Why the shop rejected a claim."
)
AftersalesDisposition = _enum(
    "AftersalesDisposition", enums.Disposition, "What became of a returned unit."
)
AftersalesResolution = _enum(
    "AftersalesResolution", enums.Resolution, "How a claim was settled."
)
AftersalesEventType = _enum(
    "AftersalesEventType", enums.EventType, "Kind of audit event."
)
AftersalesActorType = _enum(
    "AftersalesActorType", enums.ActorType, "Who performed an audited step."
)
AftersalesRefundStatus = _enum(
    "AftersalesRefundStatus", enums.RefundStatus, "Outcome of a refund."
)
AftersalesRefundMethod = _enum(
    "AftersalesRefundMethod",
    enums.RefundMethod,
    "Where refunded money goes.",
)
AftersalesErrorCode = graphene.Enum.from_enum(_ErrorCode)
WarrantyCardStatus = _enum(
    "WarrantyCardStatus", enums.WarrantyStatus, "Whether a warranty card covers."
)
WarrantyEndedBy = _enum(
    "WarrantyEndedBy", enums.WarrantyEndedBy, "The limit of the terms that ended it."
)
WarrantyUsageUnit = _enum(
    "WarrantyUsageUnit", enums.UsageUnit, "Unit of a warranty's usage limit."
)
WarrantyCardEventType = _enum(
    "WarrantyCardEventType", enums.WarrantyEventType, "What happened to a card."
)
RepairQuoteLineKind = _enum(
    "RepairQuoteLineKind", enums.QuoteLineKind, "Parts or labour on a repair quote."
)
AftersalesHandBackMethod = _enum(
    "AftersalesHandBackMethod", enums.HandBackMethod, "How a repaired item goes back."
)
AftersalesAction = _enum(
    "AftersalesAction",
    enums.Action,
    "A step the viewer may take on a claim now; each is one mutation.",
)
AftersalesIneligibility = _enum(
    "AftersalesIneligibility",
    enums.Ineligibility,
    "Why a line can't be returned or exchanged today.",
)
AftersalesPaper = graphene.Enum(
    "AftersalesPaper",
    [("A4", "A4"), ("LETTER", "LETTER")],
    description="Paper size of a printable document.",
)
