"""Section d: how the first page of `GET /task/` grows with the tasks a user has.

Tasks are inserted straight into the database (pymongo `insert_many`, the document shape of
`backend/apps/todo/models.py`'s `Task`), then `GET /task/?limit=20` is timed, alternating the
apps. Deep pages: if the answer carries `Link: <...>; rel="next"` (keyset pagination), following it
is timed hop by hop; an offset page (`?skip=N/2`) is timed on any app that accepts `skip`.
"""

import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
from bson import ObjectId
from pymongo import MongoClient

from benchmarks.servers import App
from benchmarks.stats import percentile

BATCH = 1000
NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


@dataclass
class ListingFigures:
    first_page: dict[int, list[float]] = field(default_factory=dict)  # tasks -> ms samples
    offset_page: dict[int, list[float]] = field(default_factory=dict)
    next_hops: dict[int, list[float]] = field(default_factory=dict)
    hops_reached: dict[int, int] = field(default_factory=dict)  # tasks -> position of the last page read
    has_link: bool = False

    def summary(self) -> dict[str, dict[int, dict[str, float]]]:
        def describe(samples: dict[int, list[float]]) -> dict[int, dict[str, float]]:
            return {
                n: {"median": statistics.median(s), "p90": percentile(s, 90), "count": len(s)}
                for n, s in samples.items()
                if s
            }

        return {
            "first_page": describe(self.first_page),
            "offset_page": describe(self.offset_page),
            "next_hop": describe(self.next_hops),
        }


def next_link(response: httpx.Response) -> str | None:
    match = NEXT_LINK.search(response.headers.get("link", ""))
    return urljoin(str(response.url), match.group(1)) if match else None


def items_of(response: httpx.Response) -> list[Any]:
    """The tasks of a page: the body itself, or the first list in an object ({"items": [...]})."""
    body = response.json()
    if isinstance(body, dict):
        return next((value for value in body.values() if isinstance(value, list)), [])
    return body if isinstance(body, list) else []


def timed_get(client: httpx.Client, url: str, token: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    return (time.perf_counter() - started) * 1000, response


def top_up(db_url: str, app: App, owner_id: str, have: int, want: int) -> None:
    """Give the user `want` tasks, oldest first, one millisecond apart."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    owner = ObjectId(owner_id)
    with MongoClient(db_url, tz_aware=True) as client:
        tasks = client[app.database]["tasks"]
        for start in range(have, want, BATCH):
            docs = []
            for i in range(start, min(start + BATCH, want)):
                at = base + timedelta(milliseconds=i)
                docs.append(
                    {
                        "owner_id": owner,
                        "name": f"task {i}",
                        "completed": i % 3 == 0,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            tasks.insert_many(docs, ordered=False)


def measure(
    apps: list[App], users: dict[str, tuple[str, str]], db_url: str, sizes: list[int], repeats: int, hops: int
) -> dict[str, ListingFigures]:
    """`users` maps each app's key to (id, access token) of a user of its own with no tasks yet."""
    figures = {app.key: ListingFigures() for app in apps}
    have = 0
    with httpx.Client(timeout=120) as client:
        for size in sizes:
            for app in apps:
                top_up(db_url, app, users[app.key][0], have, size)
            have = size
            for app in apps:  # warm-up: the first query after a bulk insert is not typical
                timed_get(client, f"{app.url}/task/?limit=20", users[app.key][1])
            for _ in range(repeats):
                for app in apps:
                    ms, response = timed_get(client, f"{app.url}/task/?limit=20", users[app.key][1])
                    if response.status_code != 200 or len(items_of(response)) != 20:
                        raise RuntimeError(
                            f"{app.name}: GET /task/?limit=20 -> {response.status_code} {response.text[:200]}"
                        )
                    figures[app.key].first_page.setdefault(size, []).append(ms)
            for app in apps:
                token = users[app.key][1]
                offset_page(client, app, token, size, max(3, repeats // 3), figures[app.key])
                follow_links(client, app, token, size, hops, figures[app.key])
    return figures


def offset_page(
    client: httpx.Client, app: App, token: str, size: int, repeats: int, into: ListingFigures
) -> None:
    for _ in range(repeats):
        ms, response = timed_get(client, f"{app.url}/task/?limit=20&skip={size // 2}", token)
        if response.status_code != 200:
            return  # skip is not offered (keyset only)
        into.offset_page.setdefault(size, []).append(ms)


def follow_links(
    client: httpx.Client, app: App, token: str, size: int, hops: int, into: ListingFigures
) -> None:
    _, response = timed_get(client, f"{app.url}/task/?limit=20", token)
    url, reached = next_link(response), 20
    for _ in range(hops):
        if url is None:
            break
        into.has_link = True
        ms, response = timed_get(client, url, token)
        response.raise_for_status()
        into.next_hops.setdefault(size, []).append(ms)
        reached += len(items_of(response))
        url = next_link(response)
    if into.next_hops.get(size):
        into.hops_reached[size] = reached
