"""Who performs a step; every audit event records one."""

from dataclasses import dataclass
from typing import Optional

from .port import host
from .enums import ActorType


@dataclass(frozen=True)
class Actor:
    """Who performs a step; recorded on every event."""

    type: str
    user: Optional["host.User"] = None
    app: Optional["host.App"] = None

    @classmethod
    def customer(cls, user=None) -> "Actor":
        return cls(ActorType.CUSTOMER, user=user)

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(ActorType.STAFF, user=user)

    @classmethod
    def for_app(cls, app) -> "Actor":
        return cls(ActorType.APP, app=app)

    @classmethod
    def system(cls) -> "Actor":
        return cls(ActorType.SYSTEM)

    @classmethod
    def from_refs(cls, type: str, user_ref: str = "", app_ref: str = "") -> "Actor":
        """The actor recorded by reference (e.g. who asked for a refund)."""
        return cls(type, user=host.user_by_ref(user_ref), app=host.app_by_ref(app_ref))

    @property
    def user_ref(self) -> str:
        return host.user_ref(self.user)

    @property
    def app_ref(self) -> str:
        return host.app_ref(self.app)

    @property
    def is_staff_or_app(self) -> bool:
        return self.type in (ActorType.STAFF, ActorType.APP)

    @property
    def staff_user(self) -> Optional["host.User"]:
        """The staff member Saleor's own order events name, if one acted."""
        return self.user if self.type == ActorType.STAFF else None

    def describe(self) -> str:
        if self.type == ActorType.STAFF and self.user is not None:
            return self.user.email
        if self.type == ActorType.APP and self.app is not None:
            return f"app {self.app.name}"
        return self.type
