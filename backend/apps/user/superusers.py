"""Someone must always be able to administer the app.

The last active superuser cannot delete, deactivate or demote itself: such a change answers 409
with what to do instead. A change is checked before it is made and, for demotions, again after:
two superusers demoting each other at the same moment each see the other still there, so each
re-counts after its own write and undoes it when nobody would be left.
"""

from typing import Any

from fastapi import HTTPException, Request, status
from fastapi_users.manager import BaseUserManager

from backend.apps.user.models import User

LAST_SUPERUSER = {
    "code": "LAST_SUPERUSER",
    "reason": "This is the last active superuser: make another account a superuser first.",
}


class LastSuperuserError(HTTPException):
    def __init__(self) -> None:
        super().__init__(status.HTTP_409_CONFLICT, detail=LAST_SUPERUSER)


def _removes_admin(user: User, update_dict: dict[str, Any]) -> bool:
    return (
        user.is_superuser
        and user.is_active
        and (update_dict.get("is_superuser") is False or update_dict.get("is_active") is False)
    )


async def _another_active_superuser(user: User) -> bool:
    query = {"is_superuser": True, "is_active": True, "_id": {"$ne": user.id}}
    return await User.get_pymongo_collection().find_one(query, projection={"_id": 1}) is not None


class KeepOneSuperuserMixin(BaseUserManager[User, Any]):
    async def _update(self, user: User, update_dict: dict[str, Any]) -> User:
        removes_admin = _removes_admin(user, update_dict)
        if removes_admin and not await _another_active_superuser(user):
            raise LastSuperuserError()
        updated = await super()._update(user, update_dict)
        if removes_admin and not await _another_active_superuser(user):  # lost a race: undo
            await self.user_db.update(updated, {"is_superuser": True, "is_active": True})
            raise LastSuperuserError()
        return updated

    async def on_before_delete(self, user: User, request: Request | None = None) -> None:
        if user.is_superuser and user.is_active and not await _another_active_superuser(user):
            raise LastSuperuserError()
        await super().on_before_delete(user, request)
