"""Logging: one format, one level (LOG_LEVEL), and no tokens in access logs.

Reset and verify links carry their token in the query string (`/reset-password?token=...`);
when a browser opens one, the server's access log would record it. The filter below blanks
`token=` values in uvicorn's access log lines, in every environment.
"""

import logging
import re

FORMAT = "%(levelname)s %(name)s: %(message)s"
TOKEN_IN_QUERY = re.compile(r"((?:^|[?&])[a-z_]*token=)[^&\s\"]+", re.IGNORECASE)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_QUERY.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def configure_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format=FORMAT)
    logging.getLogger("backend").setLevel(level.upper())
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())
