"""The desk's hand on warranty cards (MANAGE_ORDERS): extend, void, serial numbers."""

import graphene

from ... import warranty
from ..host import api
from ..authorize import staff_actor
from ..types import WarrantyCard
from .base import AftersalesMutation, clean_text

CODE_HELP = "The card's code (dashes and case don't matter)."


class WarrantyCardMutation(AftersalesMutation):
    warranty_card = graphene.Field(WarrantyCard, description="The card.")

    class Meta:
        abstract = True

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        card = warranty.card_by_code(data["code"])
        card = cls.change(card, staff_actor(info), data)
        return cls.success(warranty_card=card)

    @classmethod
    def change(cls, card, actor, data):
        raise NotImplementedError


class WarrantyCardExtend(WarrantyCardMutation):
    class Arguments:
        code = graphene.String(required=True, description=CODE_HELP)
        months = graphene.Int(required=True, description="Months to add, 1-120.")

    class Meta:
        description = "Extend a card's cover, e.g. as a goodwill gesture."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def change(cls, card, actor, data):
        return warranty.extend(card, by=actor, months=data["months"])


class WarrantyCardVoid(WarrantyCardMutation):
    class Arguments:
        code = graphene.String(required=True, description=CODE_HELP)
        reason = graphene.String(required=True, description="Why it no longer covers.")

    class Meta:
        description = "Void a card (fraud, unit written off, tampering)."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def change(cls, card, actor, data):
        return warranty.void(card, by=actor, reason=clean_text(data, "reason"))


class WarrantyCardUpdate(WarrantyCardMutation):
    class Arguments:
        code = graphene.String(required=True, description=CODE_HELP)
        serial_number = graphene.String(
            required=True, description="The unit's serial number or VIN."
        )

    class Meta:
        description = "Record the serial number of the unit a card belongs to."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def change(cls, card, actor, data):
        return warranty.record_serial_number(
            card,
            by=actor,
            serial_number=clean_text(data, "serial_number", max_length=64),
        )
