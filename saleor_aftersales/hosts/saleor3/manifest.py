"""What Saleor reads to install the app (``appInstall`` with the manifest's URL):
who it is, the permissions it asks for, and the webhooks it wants."""

from django.conf import settings

from .facts import ORDER_FIELDS

APP_ID = "saleor.aftersales"
VERSION = "0.3.0"

# The permissions the app asks for, and why; shown to the staff member installing.
PERMISSIONS = {
    "MANAGE_ORDERS": "read orders, record returned fulfillments, note the timeline",
    "HANDLE_PAYMENTS": "refund claims through the order's own payment",
    "MANAGE_GIFT_CARD": "issue store credit as gift cards",
    "MANAGE_PRODUCTS": "check and restock the units that come back",
}

# A shipment of part of an order is FULFILLMENT_CREATED (ORDER_FULFILLED comes only
# once every unit has left).
ORDER_EVENTS = (
    "ORDER_UPDATED",
    "ORDER_FULLY_PAID",
    "ORDER_FULFILLED",
    "FULFILLMENT_CREATED",
)

ORDER_SUBSCRIPTION = (
    ORDER_FIELDS
    + """
subscription {
  event {
    __typename issuedAt
    ... on OrderUpdated { order { ...AftersalesOrder } }
    ... on OrderFullyPaid { order { ...AftersalesOrder } }
    ... on OrderFulfilled { order { ...AftersalesOrder } }
    ... on FulfillmentCreated { order { ...AftersalesOrder } }
  }
}
"""
)

APP_DELETED_SUBSCRIPTION = """
subscription { event { __typename issuedAt ... on AppDeleted { app { id } } } }
"""


def manifest() -> dict:
    base = settings.APP_URL
    webhooks_url = f"{base}/api/webhooks"
    return {
        "id": APP_ID,
        "version": VERSION,
        "name": "After-sales",
        "about": (
            "Returns, exchanges and repairs with an audited desk, refunds through "
            "the order's own payment exactly once, and warranty cards."
        ),
        "permissions": list(PERMISSIONS),
        "appUrl": f"{base}/",
        "tokenTargetUrl": f"{base}/api/register",
        "author": "saleor-aftersales",
        "webhooks": [
            {
                "name": "After-sales: order copy",
                "asyncEvents": list(ORDER_EVENTS),
                "query": ORDER_SUBSCRIPTION,
                "targetUrl": webhooks_url,
                "isActive": True,
            },
            {
                "name": "After-sales: uninstalled",
                "asyncEvents": ["APP_DELETED"],
                "query": APP_DELETED_SUBSCRIPTION,
                "targetUrl": webhooks_url,
                "isActive": True,
            },
        ],
        # The desk, in the Dashboard's Orders menu, for staff with MANAGE_ORDERS.
        "extensions": [
            {
                "identifier": "returns-desk",
                "label": "Returns desk",
                "mount": "NAVIGATION_ORDERS",
                "target": "APP_PAGE",
                "permissions": ["MANAGE_ORDERS"],
                "url": "/aftersales/console/",
            }
        ],
    }
