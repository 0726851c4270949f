"""Listing tasks a page at a time: keyset pagination, with the next page in a `Link` header.

`GET /task/` keeps the tutorial's contract — the body is a JSON array of tasks, oldest first —
and announces the next page in an RFC 8288 `Link: <...>; rel="next"` header whose `cursor` is
opaque to clients: the (created_at, _id) of the last task of the page. The next page is the range
after it, so on MongoDB each page is one range scan of the (owner_id, created_at, _id) index
however deep it is, and inserts or deletes between pages neither repeat nor skip a task. `skip`
keeps working for clients written against the first version.
"""

from typing import Any

from pydantic import TypeAdapter

from backend.apps.todo.models import TaskRead
from backend.core import keyset

PAGE_OF_TASKS = TypeAdapter(list[TaskRead])


def encode_cursor(task: dict[str, Any]) -> str:
    return keyset.encode_cursor(task["created_at"], task["_id"])


def after_cursor(cursor: str) -> dict[str, Any]:
    """The query for the tasks after `cursor`; 422 for anything that is not one of ours."""
    return keyset.after_cursor(cursor, "created_at")


def next_link(path: str, last: dict[str, Any], limit: int, completed: bool | None) -> str:
    query: dict[str, Any] = {"limit": limit, "cursor": encode_cursor(last)}
    if completed is not None:
        query["completed"] = str(completed).lower()
    return keyset.next_link(path, query)


def serialise(tasks: list[dict[str, Any]]) -> bytes:
    """The page as JSON, built once from the documents just read (no second validation)."""
    fields = TaskRead.model_fields.keys() - {"id"}
    return PAGE_OF_TASKS.dump_json(
        [TaskRead.model_construct(_id=task["_id"], **{f: task[f] for f in fields}) for task in tasks],
        by_alias=True,
    )
