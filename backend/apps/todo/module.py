"""The todo module: the tutorial's task list, each person's own (a quota bounds what one account
can make the database scan)."""

from collections.abc import Callable, Sequence
from typing import Any

from beanie import PydanticObjectId
from fastapi import APIRouter

from backend.apps.todo.models import Task, TaskCount, delete_tasks_of
from backend.apps.todo.quota import TaskQuota
from backend.apps.todo.routes import get_todo_router
from backend.core.kit import Kit
from backend.core.modules import Module


class TodoModule(Module):
    name = "todo"
    documents = (Task, TaskCount)

    def __init__(self, kit: Kit, current_user: Callable[..., Any]) -> None:
        """`current_user`: the dependency giving the signed-in user (the auth app's sessions)."""
        self.current_user = current_user
        self.quota = TaskQuota(kit.settings.max_tasks_per_user)

    def routers(self) -> Sequence[APIRouter]:
        return [get_todo_router(self.current_user, self.quota)]

    async def forget_user(self, user_id: PydanticObjectId) -> None:
        await delete_tasks_of(user_id)
