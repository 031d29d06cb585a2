"""Who is calling the app, from the Saleor token they present, verified offline
against the shop's keys (no call to Saleor per request):

- a shopper's access token (``type: access``, from ``tokenCreate`` on the
  storefront): the account it names, never staff, whatever its ``is_staff``;
- the token the Dashboard hands to the app's pages (``type: thirdparty``, issued
  for this app): a staff member, with the permissions Saleor gave them; the desk
  needs MANAGE_ORDERS.

Anything else (unsigned, another key, another issuer, another app, expired,
refresh or e-mail tokens) is refused."""

from dataclasses import dataclass
from typing import FrozenSet

import jwt

from .models import SaleorShop
from .signatures import signing_key

ACCESS = "access"
THIRD_PARTY = "thirdparty"
MANAGE_ORDERS = "MANAGE_ORDERS"


class NotAuthenticated(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    user_ref: str  # Saleor's global id of the account
    email: str
    is_staff: bool  # a staff member acting in the Dashboard through this app
    # What the staff member may do through this app: Saleor grants what both the
    # app and they hold.
    permissions: FrozenSet[str] = frozenset()
    # What they may do in Saleor themselves (the token's ``user_permissions``).
    own_permissions: FrozenSet[str] = frozenset()

    @property
    def may_manage_orders(self) -> bool:
        return self.is_staff and MANAGE_ORDERS in self.permissions


# Held by the staff member in Saleor rather than through the app (which never
# asks Saleor for it): managing apps, here the app's own outgoing webhooks.
OWN_PERMISSIONS = {"MANAGE_APPS"}


def has_permission(user, app, permission: str) -> bool:
    """Whether the caller holds ``permission``: staff acting through the app's
    Dashboard pages with it (the app itself calls no one's API but Saleor's)."""
    if not isinstance(user, Viewer) or not user.is_staff:
        return False
    if permission in OWN_PERMISSIONS:
        return permission in user.own_permissions
    return permission in user.permissions


def viewer_from_token(shop: SaleorShop, token: str) -> Viewer:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotAuthenticated("not a token")
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise NotAuthenticated("not signed by a Saleor")
    key = signing_key(shop, header["kid"])
    if key is None:
        raise NotAuthenticated("unknown key")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=shop.api_url,
            options={"require": ["exp", "iat", "iss"], "verify_aud": False},
        )
    except jwt.PyJWTError as error:
        raise NotAuthenticated(type(error).__name__)
    if "aud" in claims:
        # Minted for another service (tokenCreate(audience:)): not for this app.
        raise NotAuthenticated("a token for another audience")
    user_ref, email = claims.get("user_id"), claims.get("email")
    if not isinstance(user_ref, str) or not isinstance(email, str):
        raise NotAuthenticated("no account")
    if claims.get("type") == ACCESS:
        return Viewer(user_ref=user_ref, email=email, is_staff=False)
    if claims.get("type") == THIRD_PARTY and claims.get("app") == shop.app_id:
        # What both the app and the staff member hold (Saleor's own rule).
        permissions = claims.get("permissions") or []
        own = claims.get("user_permissions") or []
        return Viewer(
            user_ref=user_ref,
            email=email,
            is_staff=bool(claims.get("is_staff")),
            permissions=frozenset(p for p in permissions if isinstance(p, str)),
            own_permissions=frozenset(p for p in own if isinstance(p, str)),
        )
    raise NotAuthenticated("not a token for this app")
