"""The app's doors for Saleor: the manifest it installs from, the registration
that hands over the app token, and the signed webhooks that keep the order copy
current. Strangers, forgeries and stale deliveries get 4xx and change nothing."""

import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ... import warranty
from ...configuration import get_settings
from ...models import ShopOrder
from ...orders import save_order
from . import client, signatures, tenancy
from .facts import ORDER_QUERY, order_facts, shipped_units
from .manifest import APP_ID, manifest
from .models import SaleorShop

logger = logging.getLogger(__name__)

ORDER_EVENTS = {
    "OrderUpdated",
    "OrderFullyPaid",
    "OrderFulfilled",
    "FulfillmentCreated",
}
FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of two machines
MAX_TOKEN_LENGTH = 255


def _refused(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"success": False, "error": {"code": code, "message": message}}, status=status
    )


@require_GET
def manifest_view(request):
    return JsonResponse(manifest())


def _allowed(api_url: str) -> bool:
    """Only the Saleors the operator named (APP_SALEOR_API_URLS): the app calls
    back whatever URL registers, so an open door would be an open proxy."""
    return bool(api_url) and api_url in settings.SALEOR_API_URLS


@csrf_exempt
@require_POST
def register(request):
    """Saleor's ``appInstall`` posts the app token here. It is kept only if it
    is this app's own on the Saleor that sent it (asked back:
    ``{ app { id identifier } }``)."""
    api_url = request.headers.get("Saleor-Api-Url", "")
    if not _allowed(api_url):
        return _refused(
            403, "SALEOR_NOT_ALLOWED", "This Saleor may not install the app."
        )
    try:
        token = json.loads(request.body).get("auth_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return _refused(400, "INVALID_TOKEN", "auth_token is missing or malformed.")
    try:
        app = client.graphql(api_url, token, "{ app { id identifier } }").get("app")
    except client.SaleorError as error:
        logger.warning("Registration from %s refused: %s", api_url, error)
        app = None
    # The token must be this app's own (another app's token answers too).
    if not app or not app.get("id") or app.get("identifier") != APP_ID:
        return _refused(403, "INVALID_TOKEN", "The token does not work on that Saleor.")
    # Installed there already, with a token that still works: a second app
    # under the same identifier (anyone may create one) takes nothing over.
    existing = SaleorShop.objects.filter(api_url=api_url).first()
    try:
        taken = existing is not None and existing.app_id != app["id"]
        taken = taken and _answers(existing)
    except client.SaleorUnreachable:
        return _refused(503, "SALEOR_UNAVAILABLE", "Saleor did not answer.")
    if taken:
        return _refused(
            409, "ALREADY_INSTALLED", "The app is installed there; uninstall it first."
        )
    # The shop's own schema for the core's rows (its history, if it had one),
    # ready before anything can be done for the shop.
    tenancy.prepare(SaleorShop(api_url=api_url))
    shop, _created = SaleorShop.objects.update_or_create(
        api_url=api_url, defaults={"app_id": app["id"], "token": token}
    )
    try:
        signatures.refresh_keys(shop, force=True)
    except Exception:  # noqa: BLE001 - fetched again on the first webhook
        logger.warning("Could not fetch the signing keys of %s yet", api_url)
    logger.info("Installed in %s as %s", api_url, app["id"])
    return JsonResponse({"success": True})


def _answers(shop: SaleorShop) -> bool:
    """Whether the shop's stored token still works there as this app's
    (SaleorUnreachable when Saleor doesn't answer at all)."""
    try:
        data = client.ask(shop, "{ app { id } }")
    except client.SaleorUnreachable:
        raise
    except client.SaleorError:
        return False
    return (data.get("app") or {}).get("id") == shop.app_id


def _issued_at(payload: dict):
    try:
        issued = datetime.fromisoformat(payload["issuedAt"])
    except (KeyError, TypeError, ValueError):
        return None
    return issued if issued.tzinfo is not None else None


@csrf_exempt
@require_POST
def webhooks(request):
    shop = SaleorShop.objects.filter(
        api_url=request.headers.get("Saleor-Api-Url", "")
    ).first()
    if shop is None:
        return _refused(401, "UNKNOWN_SALEOR", "The app is not installed there.")
    body = request.body
    try:
        signatures.verify(shop, body, request.headers.get("Saleor-Signature", ""))
    except signatures.BadSignature as error:
        logger.warning("Refused a webhook from %s: %s", shop.api_url, error)
        return _refused(401, "INVALID_SIGNATURE", "The signature does not verify.")
    try:
        payload = json.loads(body)
    except ValueError:
        return _refused(400, "INVALID_PAYLOAD", "The body is not JSON.")
    issued = _issued_at(payload) if isinstance(payload, dict) else None
    now = timezone.now()
    if issued is None:
        return _refused(400, "INVALID_PAYLOAD", "issuedAt is missing.")
    if issued < now - timedelta(seconds=settings.WEBHOOK_MAX_AGE_SECONDS):
        return _refused(400, "STALE", "The event is too old.")
    if issued > now + FUTURE_TOLERANCE:
        return _refused(400, "STALE", "The event is dated in the future.")
    with tenancy.serving(shop):
        return _handle_event(shop, payload, issued)


def _handle_event(shop: SaleorShop, payload: dict, issued: datetime):
    event = payload.get("__typename")
    if event in ORDER_EVENTS:
        try:
            order_id = order_facts(payload["order"]).host_id
            shipped_units(payload["order"])
        except (KeyError, TypeError, ValueError, AttributeError):
            return _refused(400, "INVALID_PAYLOAD", "The order is incomplete.")
        # Saleor signs every app's webhooks with one key, and another app in it
        # can shape its own signed bodies (aliases): a body only says which order
        # changed. What the order is comes from Saleor, read with this app's token.
        try:
            order = client.ask(shop, ORDER_QUERY, {"id": order_id}).get("order")
        except client.SaleorUnreachable:
            return _refused(503, "SALEOR_UNAVAILABLE", "Saleor did not answer.")
        except client.SaleorError:
            order = None
        if not order:
            return JsonResponse({"success": True})  # no such order: nothing to copy
        facts = order_facts(order)
        facts = replace(facts, as_of=facts.as_of or issued)
        shipped = shipped_units(order)
        if facts.status != ShopOrder.DRAFT:
            with transaction.atomic():
                copy = save_order(facts)
            # One card per unit shipped; units that have one are skipped, so
            # every delivery may carry the whole order (unless it was older
            # than the copy: its shipments may since have been cancelled).
            if not copy.facts_were_older:
                warranty.issue_cards_for_shipment(copy, shipped, get_settings())
        return JsonResponse({"success": True})
    if event == "AppDeleted":
        # Uninstalled: forget the token and keys; claims and cards stay (in the
        # shop's schema, found again on a reinstall). Only for this installation
        # (a late event of an earlier one changes nothing).
        if ((payload.get("app") or {}).get("id")) != shop.app_id:
            return JsonResponse({"success": True})
        # As for orders, the body alone proves nothing: the app is gone when its
        # token no longer works.
        try:
            still = _answers(shop)
        except client.SaleorUnreachable:
            return _refused(503, "SALEOR_UNAVAILABLE", "Saleor did not answer.")
        if still:
            logger.warning("An APP_DELETED for %s, which still answers", shop.api_url)
            return JsonResponse({"success": True})
        shop.delete()
        logger.info("Uninstalled from %s", shop.api_url)
        return JsonResponse({"success": True})
    return _refused(400, "UNKNOWN_EVENT", "The app does not subscribe to this event.")
