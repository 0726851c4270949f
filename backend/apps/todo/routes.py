"""The todo API of the FARM tutorial, now scoped to the logged-in user."""

from collections.abc import Callable
from typing import Annotated, Any

from beanie import PydanticObjectId, UpdateResponse
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pymongo import ASCENDING

from backend.apps.todo.listing import after_cursor, next_link, serialise
from backend.apps.todo.models import Task, TaskCreate, TaskRead, TaskUpdate
from backend.apps.todo.quota import TaskQuota
from backend.apps.user.models import User
from backend.core.clock import utcnow
from backend.core.keyset import NEXT_PAGE

MAX_SKIP = 1_000_000_000  # beyond any real list; keeps the value inside what BSON can hold
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail="Task not found")


def get_todo_router(current_active_user: Callable[..., Any], quota: TaskQuota) -> APIRouter:
    CurrentUser = Annotated[User, Depends(current_active_user)]
    router = APIRouter(prefix="/task", tags=["tasks"])

    def owned(user: User, task_id: PydanticObjectId) -> dict[str, Any]:
        # Every lookup includes the owner: someone else's task is indistinguishable from none.
        return {"_id": task_id, "owner_id": user.id}

    @router.post(
        "/",
        response_model=TaskRead,
        status_code=status.HTTP_201_CREATED,
        name="Create task",
        responses={409: {"description": "TASK_QUOTA_REACHED: MAX_TASKS_PER_USER tasks already"}},
    )
    async def create_task(body: TaskCreate, user: CurrentUser) -> Task:
        await quota.reserve(user.id)
        try:
            return await Task(owner_id=user.id, **body.model_dump()).insert()
        except BaseException:
            await quota.give_back(user.id)
            raise

    @router.get(
        "/",
        response_model=list[TaskRead],
        name="List tasks",
        responses={200: {"headers": NEXT_PAGE}},
    )
    async def list_tasks(
        request: Request,
        user: CurrentUser,
        completed: bool | None = None,
        skip: Annotated[int, Query(ge=0, le=MAX_SKIP)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        cursor: Annotated[
            str | None, Query(max_length=200, description="from the `Link` header of the previous page")
        ] = None,
    ) -> Response:
        """My tasks, oldest first, `limit` at a time; `Link: <...>; rel="next"` names the next page."""
        query: dict[str, Any] = {"owner_id": user.id}
        if completed is not None:
            query["completed"] = completed
        if cursor:
            query |= after_cursor(cursor)
        # No projection: the documents hold only these fields, and SecantusDB pays for projecting.
        found = Task.get_pymongo_collection().find(query)
        found = found.sort([("created_at", ASCENDING), ("_id", ASCENDING)]).skip(skip).limit(limit + 1)
        tasks = await found.to_list(length=limit + 1)
        headers = {}
        if len(tasks) > limit:  # one more than asked for: there is a next page
            tasks = tasks[:limit]
            headers["Link"] = next_link(request.url.path, tasks[-1], limit, completed)
        return Response(serialise(tasks), media_type="application/json", headers=headers)

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
        await quota.give_back(user.id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
