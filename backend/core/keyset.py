"""Keyset pagination: lists paged by an opaque cursor, the next page named in a `Link` header.

A cursor is the position of the last item of a page — its time and its `_id`, the list's sort
key — encoded so that clients treat it as opaque. The next page is the range after it: on MongoDB
one range scan of an index on (owner, time, _id) however deep the page, and inserts or deletes
between pages neither repeat nor skip an item. The next page's URL goes in an RFC 8288
`Link: <...>; rel="next"` header, absent on the last page.
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

NEXT_PAGE = {
    "Link": {
        "description": 'RFC 8288 `<...>; rel="next"`: the URL of the next page, when there is one',
        "schema": {"type": "string"},
    }
}


def encode_cursor(when: datetime, item_id: ObjectId) -> str:
    position = {"t": int(when.timestamp() * 1000), "i": str(item_id)}
    return (
        base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).rstrip(b"=").decode()
    )


def after_cursor(cursor: str, field: str, *, descending: bool = False) -> dict[str, Any]:
    """The query for the items after `cursor` in a list sorted by (`field`, _id), ascending or
    descending; 422 for anything that is not one of ours."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        when = datetime.fromtimestamp(int(position["t"]) / 1000, UTC)
        item_id = ObjectId(str(position["i"]))
    except (binascii.Error, ValueError, TypeError, KeyError, InvalidId, OverflowError, OSError):
        raise not_a_cursor() from None
    beyond = "$lt" if descending else "$gt"
    return {"$or": [{field: {beyond: when}}, {field: when, "_id": {beyond: item_id}}]}


def encode_key(value: str) -> str:
    """A cursor for a list sorted by one unique string key (an `_id`, an address)."""
    return base64.urlsafe_b64encode(json.dumps({"k": value}).encode()).rstrip(b"=").decode()


def decode_key(cursor: str) -> str:
    """The key `encode_key` put in `cursor`; 422 for anything that is not one of ours."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["k"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise not_a_cursor() from None
    if not isinstance(value, str):
        raise not_a_cursor()
    return value


def not_a_cursor() -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[
            {
                "type": "cursor_invalid",
                "loc": ["query", "cursor"],
                "msg": "not a cursor of this list: follow the Link header's next URL",
            }
        ],
    )


def next_link(path: str, query: dict[str, Any]) -> str:
    """The `Link` header naming the next page: `path` with `query` (the cursor among it)."""
    return f'<{path}?{urlencode(query)}>; rel="next"'
