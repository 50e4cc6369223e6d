"""Controller users: static (CmonDb) per controller, and a shared LDAP directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import UTC_TIMEZONE, group_record

ADMIN_USER = "ccadmin"
VIEWER_USER = "ccviewer"

# One directory shared by every LDAP-marked controller, as a real LDAP server would be.
LDAP_DIRECTORY: tuple[tuple[str, str, str, str, str], ...] = (
    # user_name, password, first, last, group
    ("alice", "alice-ldap-pw", "Alice", "Andersen", "ldapadmins"),
    ("bob", "bob-ldap-pw", "Bob", "Berg", "ldapusers"),
)

GROUP_IDS = {"admins": 1, "users": 2, "ldapadmins": 10, "ldapusers": 11}


@dataclass(frozen=True)
class User:
    user_id: int
    user_name: str
    password: str
    first_name: str
    last_name: str
    origin: str = "CmonDb"
    groups: tuple[str, ...] = ("admins",)
    superuser: bool = False
    created: str = "2024-11-10T12:00:00.000Z"
    email_address: str = field(default="")

    def record(self, last_login: str) -> dict[str, Any]:
        """The `user` object of auth and whoAmI replies (reference §2.1)."""
        return {
            "class_name": "CmonUser",
            "cdt_path": "/",
            "acl": "user::rwx,group::r--,other::r--",
            "user_id": self.user_id,
            "user_name": self.user_name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email_address": self.email_address or f"{self.user_name}@example.com",
            "origin": self.origin,
            "disabled": False,
            "suspended": False,
            "n_failed_logins": 0,
            "last_failed_login": "",
            "created": self.created,
            "last_login": last_login,
            "owner_user_id": 1,
            "owner_user_name": "system",
            "owner_group_id": 1,
            "owner_group_name": "admins",
            "groups": [group_record(GROUP_IDS.get(g, 99), g, self.created) for g in self.groups],
            "timezone": dict(UTC_TIMEZONE),
        }


def static_users(controller_name: str) -> list[User]:
    """Per-controller local users; passwords differ per controller so mixed-up
    credentials in a client show up as AccessDenied."""
    return [
        User(
            user_id=5,
            user_name=ADMIN_USER,
            password=f"pw-{controller_name}",
            first_name="CC",
            last_name="Admin",
            groups=("admins",),
            superuser=True,
        ),
        User(
            user_id=6,
            user_name=VIEWER_USER,
            password=f"viewer-{controller_name}",
            first_name="CC",
            last_name="Viewer",
            groups=("users",),
        ),
    ]


def ldap_users() -> list[User]:
    return [
        User(
            user_id=100 + i,
            user_name=name,
            password=pw,
            first_name=first,
            last_name=last,
            origin="LDAP",
            groups=(group,),
            superuser=group == "ldapadmins",
        )
        for i, (name, pw, first, last, group) in enumerate(LDAP_DIRECTORY)
    ]
