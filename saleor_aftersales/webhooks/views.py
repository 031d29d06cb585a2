"""Incoming webhooks: thin views over the handlers.

Refused messages (forged, stale, unreadable: the handlers' ``Rejected``) get 400
with a short reason and are logged; any other exception is a bug and is not
hidden.
"""

import logging

from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..configuration import get_settings
from . import logistics, stripe_events

logger = logging.getLogger(__name__)


def _refused(source: str, error: Exception) -> JsonResponse:
    reason = str(error)[:200]
    logger.warning("Inbound %s message refused: %s", source, reason)
    return JsonResponse({"error": reason}, status=400)


@csrf_exempt
def logistics_webhook(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        outcome = logistics.handle(
            request.body,
            request.META.get("HTTP_X_AFTERSALES_SIGNATURE", ""),
            get_settings(),
        )
    except logistics.Rejected as error:
        return _refused("logistics", error)
    except logistics.TryLater as error:
        return JsonResponse({"error": str(error)}, status=409)
    return JsonResponse(
        {
            "status": outcome.status,
            "detail": outcome.detail,
            "refund": outcome.refund_status,
        }
    )


@csrf_exempt
def stripe_webhook(request):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        outcome = stripe_events.handle(
            request.body,
            request.META.get("HTTP_STRIPE_SIGNATURE", ""),
            get_settings().stripe_webhook_secret,
        )
    except stripe_events.Rejected as error:
        return _refused("Stripe", error)
    return JsonResponse({"status": outcome.status, "refunds": outcome.results})
