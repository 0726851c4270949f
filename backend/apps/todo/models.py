"""Tasks: each belongs to exactly one user."""

import re
from datetime import datetime
from typing import Annotated

from beanie import Document, PydanticObjectId
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pymongo import ASCENDING, IndexModel

from backend.core.clock import utcnow
from backend.core.schemas import PartialUpdate

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_characters(name: str) -> str:
    # NUL and the other C0 controls (and DEL) are invisible, break displays and logs, and NUL
    # truncates strings in C-based tools downstream (OWASP ASVS V5.1.4: validate free text).
    if match := CONTROL_CHARACTERS.search(name):
        raise ValueError(
            f"must not contain control characters (found U+{ord(match.group()):04X} at position "
            f"{match.start()}); use plain text on one line"
        )
    return name


TaskName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_no_control_characters),
]


class Task(Document):
    owner_id: PydanticObjectId
    name: str
    completed: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "tasks"
        indexes = [
            # Serves "my tasks, oldest first" (the _id breaks ties within a millisecond).
            IndexModel(
                [("owner_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="owner_created",
            ),
        ]


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TaskName
    completed: bool = False


class TaskUpdate(PartialUpdate):
    name: TaskName | None = None
    completed: bool | None = None


class TaskRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: PydanticObjectId = Field(alias="_id")
    name: str
    completed: bool
    created_at: datetime
    updated_at: datetime


class TaskCount(Document):
    """How many tasks a user has, for the quota (quota.py)."""

    id: PydanticObjectId  # type: ignore[assignment]  # the owner
    tasks: int = 0

    class Settings:
        name = "task_counts"


async def delete_tasks_of(owner_id: PydanticObjectId) -> None:
    await Task.find(Task.owner_id == owner_id).delete()
    await TaskCount.get_pymongo_collection().delete_one({"_id": owner_id})
