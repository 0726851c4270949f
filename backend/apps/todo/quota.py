"""A per-user task quota (`MAX_TASKS_PER_USER`): what one user can make the database scan stays bounded.

Each user's count lives in `task_counts`, reserved with one conditional `$inc` before a task is
inserted and given back after a delete, so concurrent creates never pass the limit and a create
costs no count of the user's tasks (SecantusDB would fetch every one of them to count).
"""

import contextlib
from typing import Any

from beanie import PydanticObjectId
from fastapi import HTTPException, status
from pymongo.errors import DuplicateKeyError

from backend.apps.todo.models import Task, TaskCount


class TaskQuotaReached(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status.HTTP_409_CONFLICT,
            detail={
                "code": "TASK_QUOTA_REACHED",
                "reason": f"You have {limit} tasks, the most one account may keep: delete some first.",
            },
        )


RESERVE_ATTEMPTS = 5


class TaskQuota:
    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def reserve(self, owner_id: PydanticObjectId) -> None:
        """Count one more task for `owner_id`, or raise TaskQuotaReached (409).

        Refused only on a count seen at the limit: a miss of the conditional `$inc` can also mean
        that no count existed yet, or that it changed in between (a concurrent first create
        starting it, a delete giving one back), and then it is tried again. Each retry follows a
        change someone else made, so a few are plenty; a count that keeps moving is a 503."""
        counts = TaskCount.get_pymongo_collection()
        for _ in range(RESERVE_ATTEMPTS):
            result = await counts.update_one(
                {"_id": owner_id, "tasks": {"$lt": self.limit}}, {"$inc": {"tasks": 1}}
            )
            if result.modified_count == 1:
                return
            count = await counts.find_one({"_id": owner_id})
            if count is None:
                await self._start_counting(owner_id)
            elif count["tasks"] >= self.limit:
                raise TaskQuotaReached(self.limit)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"code": "SERVER_BUSY", "reason": "Your task count kept changing: try again."},
            headers={"Retry-After": "1"},
        )

    async def give_back(self, owner_id: PydanticObjectId, tasks: int = 1) -> None:
        await TaskCount.get_pymongo_collection().update_one({"_id": owner_id}, {"$inc": {"tasks": -tasks}})

    @staticmethod
    async def _start_counting(owner_id: PydanticObjectId) -> None:
        # The first create of a user (or of one whose tasks predate the quota): count once.
        existing: Any = await Task.get_pymongo_collection().count_documents({"owner_id": owner_id})
        with contextlib.suppress(DuplicateKeyError):  # a concurrent first create counted already
            await TaskCount.get_pymongo_collection().insert_one({"_id": owner_id, "tasks": existing})
