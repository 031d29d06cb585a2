"""Who may act: staff and apps with MANAGE_ORDERS on any claim; a customer on
claims of their own orders; a guest who shows the token of a guest order (one with
no account: an account's orders are reached by signing in, never by token)."""

from typing import Optional, Tuple

from .host import api
from ..workflow import Actor


def viewer(info) -> Tuple[Optional["api.User"], Optional["api.App"]]:
    context = info.context
    return api.actor_of(getattr(context, "user", None), getattr(context, "app", None))


def is_staff_viewer(info) -> bool:
    return api.has_manage_orders(*viewer(info))


def staff_actor(info) -> Actor:
    user, app = viewer(info)
    return Actor.staff(user) if user is not None else Actor.for_app(app)


def _owns(user, order) -> bool:
    return bool(order.customer_ref) and order.customer_ref == api.user_ref(user)


def authorize_order(info, order, order_token=None) -> Actor:
    """The actor allowed to act on ``order``'s claims, or PermissionDenied.

    ``order`` is the core's copy or the facts a host just read: both name the
    account that placed it (``customer_ref``) and a guest order's token."""
    user, app = viewer(info)
    if api.has_manage_orders(user, app):
        return Actor.staff(user) if user is not None else Actor.for_app(app)
    if _owns(user, order):
        return Actor.customer(user)
    if (
        order_token is not None
        and not order.customer_ref
        and order.guest_token
        and str(order_token) == order.guest_token
    ):
        return Actor.customer(user)
    raise api.PermissionDenied()


def sees_whole_order(info, order) -> bool:
    """Staff and the signed-in owner see the order as Saleor shows it; a guest with
    its token sees what a returns page needs: name, city, country, never the
    street, postal code, phone or a full gift-card code."""
    user, app = viewer(info)
    if api.has_manage_orders(user, app):
        return True
    return _owns(user, order)


def may_see_account(info, account) -> bool:
    user, _app = viewer(info)
    return api.may_see_account(user, account)
