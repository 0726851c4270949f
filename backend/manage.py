"""Administrative commands.

python -m backend.manage create-superuser --email you@example.com
python -m backend.manage openapi [--output PATH]     the API schema, for the frontend's client
"""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
from pathlib import Path

from fastapi_users.exceptions import InvalidPasswordException
from pydantic import ValidationError

from backend.apps.user.emails import build_mailer
from backend.apps.user.manager import ensure_superuser
from backend.config import Settings, load_settings_or_exit
from backend.core.embedded_db import running_database
from backend.db import create_client, init_db
from backend.main import DOCUMENT_MODELS, create_app


async def create_superuser(settings: Settings, email: str, password: str) -> int:
    client = create_client(settings)
    mailer, _ = build_mailer(settings)  # a superuser is created verified: nothing is mailed
    try:
        await init_db(client[settings.mongodb_db], DOCUMENT_MODELS)
        try:
            created = await ensure_superuser(settings, mailer, email, password)
        except InvalidPasswordException as exc:
            print(f"password refused: {exc.reason}", file=sys.stderr)
            return 1
        except ValidationError as exc:
            print(f"email refused: {exc.errors()[0]['msg']}", file=sys.stderr)
            return 1
    finally:
        await mailer.postman.drain()
        await client.close()
    print(f"created superuser {email}" if created else f"{email} already exists; nothing changed")
    return 0


def read_password() -> str:
    if password := os.environ.get("FIRST_SUPERUSER_PASSWORD"):
        return password
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        sys.exit("the passwords differ")
    return password


def export_openapi(output: str | None) -> int:
    # Fixed settings, not the environment's: the schema must not change with someone's shell.
    settings = Settings(
        environment="development", jwt_secret_key="openapi-export-" + "x" * 32, smtp_host=None
    )
    schema = json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(schema)
    else:
        sys.stdout.write(schema)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    openapi = commands.add_parser("openapi", help="write the OpenAPI schema as JSON")
    openapi.add_argument("--output", help="a file (default: standard output)")
    create = commands.add_parser(
        "create-superuser",
        help="create a verified superuser (password from FIRST_SUPERUSER_PASSWORD or a prompt)",
    )
    create.add_argument("--email", default=os.environ.get("FIRST_SUPERUSER_EMAIL"))
    args = parser.parse_args(argv)
    if args.command == "openapi":
        return export_openapi(args.output)
    if not args.email:
        parser.error("--email is required (or set FIRST_SUPERUSER_EMAIL)")

    settings = load_settings_or_exit()
    password = read_password()
    with contextlib.ExitStack() as stack:
        if not settings.mongodb_url:
            url = stack.enter_context(running_database(settings.embedded_db_bin, settings.data_dir))
            settings = settings.model_copy(update={"mongodb_url": url})
        return asyncio.run(create_superuser(settings, args.email, password))


if __name__ == "__main__":
    sys.exit(main())
