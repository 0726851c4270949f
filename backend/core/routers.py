"""Routers: trimming a library's router, and the app's route table (`manage routes`).

`route_table` lists every operation with the function that answers it, as `module:function`, so
a route's code is one look away from its URL (README's API table names the same).
"""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


def without(router: APIRouter, path: str) -> APIRouter:
    """`router` minus its routes at `path`, replaced by this app's."""
    router.routes = [route for route in router.routes if getattr(route, "path", None) != path]
    return router


def route_table(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, `module:function`) of every operation in the schema, sorted by path."""
    rows = []
    for route in iter_route_contexts(app.routes):  # included routers too, with their prefixes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        endpoint = route.endpoint
        # The function a route factory defines: `module:factory.<locals>.name` reads as
        # `module:name`, the name to search the module for.
        where = f"{endpoint.__module__}:{endpoint.__qualname__.rsplit('.', 1)[-1]}"
        rows += [(method, route.path_format, where) for method in sorted(route.methods)]
    return sorted(rows, key=lambda row: (row[1], row[0]))
