"""Listing tasks a page at a time: keyset pagination, with the next page in a `Link` header.

`GET /task/` keeps the tutorial's contract — the body is a JSON array of tasks, oldest first —
and announces the next page in an RFC 8288 `Link: <...>; rel="next"` header whose `cursor` is
opaque to clients: the (created_at, _id) of the last task of the page. The next page is the range
after it, so on MongoDB each page is one range scan of the (owner_id, created_at, _id) index
however deep it is, and inserts or deletes between pages neither repeat nor skip a task. `skip`
keeps working for clients written against the first version.
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from bson import ObjectId
from bson.errors import InvalidId
from fastapi import HTTPException, status
from pydantic import TypeAdapter

from backend.apps.todo.models import TaskRead

PAGE_OF_TASKS = TypeAdapter(list[TaskRead])


def encode_cursor(task: dict[str, Any]) -> str:
    created: datetime = task["created_at"]
    position = {"t": int(created.timestamp() * 1000), "i": str(task["_id"])}
    return (
        base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).rstrip(b"=").decode()
    )


def after_cursor(cursor: str) -> dict[str, Any]:
    """The query for the tasks after `cursor`; 422 for anything that is not one of ours."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        created = datetime.fromtimestamp(int(position["t"]) / 1000, UTC)
        task_id = ObjectId(str(position["i"]))
    except (binascii.Error, ValueError, TypeError, KeyError, InvalidId, OverflowError, OSError):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "type": "cursor_invalid",
                    "loc": ["query", "cursor"],
                    "msg": "not a cursor of this list: follow the Link header's next URL",
                }
            ],
        ) from None
    return {"$or": [{"created_at": {"$gt": created}}, {"created_at": created, "_id": {"$gt": task_id}}]}


def next_link(path: str, last: dict[str, Any], limit: int, completed: bool | None) -> str:
    query: dict[str, Any] = {"limit": limit, "cursor": encode_cursor(last)}
    if completed is not None:
        query["completed"] = str(completed).lower()
    return f'<{path}?{urlencode(query)}>; rel="next"'


def serialise(tasks: list[dict[str, Any]]) -> bytes:
    """The page as JSON, built once from the documents just read (no second validation)."""
    fields = TaskRead.model_fields.keys() - {"id"}
    return PAGE_OF_TASKS.dump_json(
        [TaskRead.model_construct(_id=task["_id"], **{f: task[f] for f in fields}) for task in tasks],
        by_alias=True,
    )
