"""Incoming webhooks: thin views over the handlers."""

from django.http import HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..plugin import get_settings
from . import logistics, stripe_events


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
        return JsonResponse({"error": str(error)}, status=400)
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
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"status": outcome.status, "refunds": outcome.results})
