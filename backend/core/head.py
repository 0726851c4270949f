"""HEAD wherever GET answers, API routes included.

RFC 9110 section 9.3.2: HEAD is GET without the content, and a server that supports GET should
support HEAD; section 9.1: GET and HEAD are the methods every general-purpose server supports.
FastAPI's routes answer only the methods they name, so a HEAD used to get 405. This middleware
runs a HEAD request as the GET it stands for and sends what the GET answers — status and headers,
Content-Length included — without the body. The GET runs to its end (a stream as well, its chunks
sent empty, so a client that goes away still stops it), as it does behind a server that drops
HEAD bodies itself. Routes and /openapi.json are untouched: HEAD is no operation of its own.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
