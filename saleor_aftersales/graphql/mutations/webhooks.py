"""Webhook subscriptions and their deliveries: MANAGE_APPS as Saleor's own, and
MANAGE_ORDERS too, since the events carry customers' claims."""

from urllib.parse import urlparse

import graphene

from ... import models
from ..host import api
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...webhooks import outgoing
from ..types import AftersalesWebhook, AftersalesWebhookDelivery
from .base import AftersalesMutation, clean_text, get_instance


class AftersalesWebhookInput(graphene.InputObjectType):
    name = graphene.String(description="What it is for.")
    target_url = graphene.String(description="Where events are posted (http/https).")
    secret = graphene.String(description="Key of the X-Saleor-HMAC-SHA256 signature.")
    event_types = graphene.List(
        graphene.NonNull(graphene.String),
        description=f"Events wanted; empty: all of {', '.join(outgoing.EVENT_TYPES)}.",
    )
    is_active = graphene.Boolean(description="Whether events are sent.")


def _invalid(field: str, message: str):
    return aftersales_error(field, message, Code.INVALID)


def clean_webhook_input(data, instance: models.WebhookSubscription):
    if "name" in data or instance.pk is None:
        instance.name = clean_text(data, "name", max_length=255)
        if not instance.name:
            raise _invalid("name", "Name the subscription.")
    if "target_url" in data or instance.pk is None:
        url = clean_text(data, "target_url", max_length=2048)
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise _invalid("targetUrl", "Give an http(s) URL.")
        instance.target_url = url
    if "secret" in data or instance.pk is None:
        instance.secret = clean_text(data, "secret", max_length=255)
        if len(instance.secret) < 16:
            raise _invalid("secret", "Use a secret of at least 16 characters.")
    if data.get("event_types") is not None:
        unknown = set(data["event_types"]) - set(outgoing.EVENT_TYPES)
        if unknown:
            raise _invalid(
                "eventTypes", f"Unknown events: {', '.join(sorted(unknown))}."
            )
        instance.event_types = sorted(set(data["event_types"]))
    if data.get("is_active") is not None:
        instance.is_active = data["is_active"]
    return instance


class AftersalesWebhookCreate(AftersalesMutation):
    webhook = graphene.Field(AftersalesWebhook)

    class Arguments:
        input = AftersalesWebhookInput(required=True, description="The subscription.")

    class Meta:
        description = "Subscribe a URL to after-sales events."
        permissions = (api.MANAGE_APPS, api.MANAGE_ORDERS)

    @classmethod
    def perform_mutation(cls, _root, _info, input):
        webhook = clean_webhook_input(input, models.WebhookSubscription())
        webhook.save()
        return cls.success(webhook=webhook)


class AftersalesWebhookUpdate(AftersalesMutation):
    webhook = graphene.Field(AftersalesWebhook)

    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")
        input = AftersalesWebhookInput(required=True, description="What changes.")

    class Meta:
        description = "Change a webhook subscription."
        permissions = (api.MANAGE_APPS, api.MANAGE_ORDERS)

    @classmethod
    def perform_mutation(cls, _root, _info, id, input):
        webhook = get_instance(
            models.WebhookSubscription, id, "AftersalesWebhook", "id"
        )
        webhook = clean_webhook_input(input, webhook)
        webhook.save()
        return cls.success(webhook=webhook)


class AftersalesWebhookDelete(AftersalesMutation):
    webhook = graphene.Field(AftersalesWebhook)

    class Arguments:
        id = graphene.ID(required=True, description="ID of the subscription.")

    class Meta:
        description = "Remove a webhook subscription and its delivery log."
        permissions = (api.MANAGE_APPS, api.MANAGE_ORDERS)

    @classmethod
    def perform_mutation(cls, _root, _info, id):
        webhook = get_instance(
            models.WebhookSubscription, id, "AftersalesWebhook", "id"
        )
        pk = webhook.pk
        webhook.delete()
        webhook.pk = pk
        return cls.success(webhook=webhook)


class AftersalesWebhookRedeliver(AftersalesMutation):
    delivery = graphene.Field(AftersalesWebhookDelivery)

    class Arguments:
        id = graphene.ID(required=True, description="ID of the delivery.")

    class Meta:
        description = "Send a delivery again with a fresh set of attempts."
        permissions = (api.MANAGE_APPS, api.MANAGE_ORDERS)

    @classmethod
    def perform_mutation(cls, _root, _info, id):
        delivery = get_instance(
            models.WebhookDelivery, id, "AftersalesWebhookDelivery", "id"
        )
        return cls.success(delivery=outgoing.redeliver(delivery))
