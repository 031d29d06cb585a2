"""Who may act: staff and apps with MANAGE_ORDERS on any claim; a customer on
claims of their own orders; a guest who shows the token of a guest order (one with
no account: an account's orders are reached by signing in, never by token)."""

from typing import Optional, Tuple

from .. import host
from ..workflow import Actor


def viewer(info) -> Tuple[Optional["host.User"], Optional["host.App"]]:
    context = info.context
    return host.actor_of(getattr(context, "user", None), getattr(context, "app", None))


def is_staff_viewer(info) -> bool:
    return host.has_manage_orders(*viewer(info))


def staff_actor(info) -> Actor:
    user, app = viewer(info)
    return Actor.staff(user) if user is not None else Actor.for_app(app)


def authorize_order(info, order, order_token=None) -> Actor:
    """The actor allowed to act on ``order``'s claims, or PermissionDenied."""
    user, app = viewer(info)
    if host.has_manage_orders(user, app):
        return Actor.staff(user) if user is not None else Actor.for_app(app)
    if user is not None and order.user_id is not None and order.user_id == user.pk:
        return Actor.customer(user)
    if (
        order_token is not None
        and order.user_id is None
        and str(order_token) == str(order.token)
    ):
        return Actor.customer(user)
    raise host.PermissionDenied()


def sees_whole_order(info, order) -> bool:
    """Staff and the signed-in owner see the order as Saleor shows it; a guest with
    its token sees what a returns page needs: name, city, country, never the
    street, postal code, phone or a full gift-card code."""
    user, app = viewer(info)
    if host.has_manage_orders(user, app):
        return True
    return user is not None and order.user_id is not None and order.user_id == user.pk


def may_see_account(info, account) -> bool:
    user, _app = viewer(info)
    return host.may_see_account(user, account)
