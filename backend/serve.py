"""`make run`: the API on http://HOST:PORT, on the embedded database unless MONGODB_URL is set."""

import argparse
import contextlib
import logging
import os
import signal

import uvicorn

from backend.apps.auth.tokens.keys import load_keyring_or_exit
from backend.config import load_settings_or_exit
from backend.core.embedded_db import running_database
from backend.core.logs import FORMAT


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--reload", action="store_true", help="restart on code changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=FORMAT)

    # Validated here, once, before the database starts: workers then read the same values
    # (including a generated development secret).
    settings = load_settings_or_exit()
    load_keyring_or_exit(settings)  # a missing or unusable signing key: one line, before anything starts
    logging.getLogger().setLevel(settings.log_level.upper())
    # uvicorn finishes requests in flight on SIGTERM and then raises the signal again; handled
    # here, it unwinds this function, so the embedded database is stopped cleanly too.
    signal.signal(signal.SIGTERM, _stop)
    with contextlib.ExitStack() as stack:
        if not settings.mongodb_url:
            os.environ["MONGODB_URL"] = stack.enter_context(
                running_database(settings.embedded_db_bin, settings.data_dir)
            )
        uvicorn.run(
            "backend.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=args.workers,
            reload=args.reload,
            # The app trusts Forwarded and X-Forwarded-For only from TRUSTED_PROXIES
            # (core/proxies.py), not from whatever uvicorn trusts by default.
            proxy_headers=False,
            log_level=settings.log_level,
            # SIGTERM / Ctrl-C: stop accepting, let requests in flight finish for this long, and
            # only then close what is left; the embedded database stops after the server.
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        )


if __name__ == "__main__":
    main()
