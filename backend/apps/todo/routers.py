"""The todo API of the FARM tutorial, now scoped to the logged-in user."""

from collections.abc import Callable
from typing import Annotated, Any

from beanie import PydanticObjectId, UpdateResponse
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pymongo import ASCENDING

from backend.apps.todo.models import Task, TaskCreate, TaskRead, TaskUpdate
from backend.apps.user.models import User
from backend.core.clock import utcnow

MAX_SKIP = 1_000_000_000  # beyond any real list; keeps the value inside what BSON can hold
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="Task not found")


def get_todo_router(current_active_user: Callable[..., Any]) -> APIRouter:
    CurrentUser = Annotated[User, Depends(current_active_user)]
    router = APIRouter(prefix="/task", tags=["tasks"])

    def owned(user: User, task_id: PydanticObjectId) -> dict[str, Any]:
        # Every lookup includes the owner: someone else's task is indistinguishable from none.
        return {"_id": task_id, "owner_id": user.id}

    @router.post("/", response_model=TaskRead, status_code=status.HTTP_201_CREATED, name="Create task")
    async def create_task(body: TaskCreate, user: CurrentUser) -> Task:
        return await Task(owner_id=user.id, **body.model_dump()).insert()

    @router.get("/", response_model=list[TaskRead], name="List tasks")
    async def list_tasks(
        user: CurrentUser,
        completed: bool | None = None,
        skip: Annotated[int, Query(ge=0, le=MAX_SKIP)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[Task]:
        query: dict[str, Any] = {"owner_id": user.id}
        if completed is not None:
            query["completed"] = completed
        return (
            await Task.find(query)
            .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
            .skip(skip)
            .limit(limit)
            .to_list()
        )

    @router.get("/{id}", response_model=TaskRead, name="Show task")
    async def show_task(id: PydanticObjectId, user: CurrentUser) -> Task:
        task = await Task.find_one(owned(user, id))
        if task is None:
            raise NOT_FOUND
        return task

    @router.put("/{id}", response_model=TaskRead, name="Update task")
    async def update_task(id: PydanticObjectId, body: TaskUpdate, user: CurrentUser) -> Task:
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            return await show_task(id, user)
        task = await Task.find_one(owned(user, id)).update(
            {"$set": {**changes, "updated_at": utcnow()}},
            response_type=UpdateResponse.NEW_DOCUMENT,
        )
        if task is None:
            raise NOT_FOUND
        return task

    @router.delete(
        "/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, name="Delete task"
    )
    async def delete_task(id: PydanticObjectId, user: CurrentUser) -> Response:
        result = await Task.find_one(owned(user, id)).delete()
        if result is None or result.deleted_count == 0:
            raise NOT_FOUND
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
