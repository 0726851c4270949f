"""Administrative commands.

python -m backend.manage migrate                     build the indexes, run the data migrations
python -m backend.manage create-superuser --email you@example.com
python -m backend.manage openapi [--output PATH]     the API schema, for the frontend's client
python -m backend.manage routes [--markdown]         every route and the function that answers it
python -m backend.manage keys new [--next] [--algorithm ALG]   a new signing key in JWT_KEYS_DIR
python -m backend.manage keys list                   the configured keys (kid, file, role; no secrets)
python -m backend.manage token inspect TOKEN|-       why the app would accept or refuse a token
python -m backend.manage totp reencrypt              every TOTP secret under the first TOTP key
"""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi_users.exceptions import InvalidPasswordException
from pydantic import ValidationError

from backend.apps.auth.methods.totp.service import reencrypt_all
from backend.apps.auth.tokens import inspect as inspect_token
from backend.apps.auth.tokens.keys import (
    ASYMMETRIC_ALGORITHMS,
    HMAC_ALGORITHM,
    JWKS_MAX_AGE,
    NEXT_SUFFIX,
    Key,
    KeyRing,
    key_files,
    load_key_file,
    write_new_key,
)
from backend.apps.user.manager import ensure_superuser
from backend.apps.user.module import UserModule
from backend.config import ConfigError, Settings, load_settings_or_exit
from backend.core.embedded_db import running_database
from backend.core.kit import Kit
from backend.core.migrations import migrate
from backend.core.routers import route_table
from backend.db import create_client, init_db
from backend.main import create_app, document_models, modules, schema_of


async def create_superuser(settings: Settings, email: str, password: str) -> int:
    client = create_client(settings)
    kit = Kit.from_settings(settings)
    built = modules(kit)
    user = next(module for module in built if isinstance(module, UserModule))
    try:
        await init_db(client[settings.mongodb_db], document_models(built))
        try:
            # A superuser is created verified: nothing is mailed.
            created = await ensure_superuser(settings, user.letters, email, password, hashing=kit.hashing)
        except InvalidPasswordException as exc:
            print(f"password refused: {exc.reason}", file=sys.stderr)
            return 1
        except ValidationError as exc:
            print(f"email refused: {exc.errors()[0]['msg']}", file=sys.stderr)
            return 1
    finally:
        await kit.postman.drain()
        await kit.hashing.close()
        await client.close()
    print(f"created superuser {email}" if created else f"{email} already exists; nothing changed")
    return 0


async def reencrypt_totp(settings: Settings) -> int:
    """`totp reencrypt`: 0 when every stored TOTP secret is under the first key, 1 when some
    opened with no configured key (they stay as they are; nothing is ever deleted)."""
    client = create_client(settings)
    try:
        await init_db(client[settings.mongodb_db], document_models(modules(Kit.from_settings(settings))))
        rotated, current, unreadable = await reencrypt_all(settings)
    finally:
        await client.close()
    print(f"TOTP secrets: {rotated} re-encrypted under the first key, {current} already were")
    if unreadable:
        print(
            f"{unreadable} open with no configured key (left unchanged): put the key that made them back "
            "into TOTP_ENCRYPTION_KEYS (or its JWT secret into JWT_SECRET_KEYS) and run this again",
            file=sys.stderr,
        )
        return 1
    print("no secret needs a key other than the first: the others may be removed")
    return 0


async def run_migrate(settings: Settings) -> int:
    """`migrate`: every index and data migration the app needs, made once (core/migrations.py)."""
    client = create_client(settings)
    kit = Kit.from_settings(settings)
    declared, migrations = schema_of(modules(kit))
    try:
        done = await migrate(client[settings.mongodb_db], declared, migrations)
    finally:
        await kit.hashing.close()
        await client.close()
    print(f"migrate: {len(done)} change(s)" if done else "migrate: nothing to do; the database is up to date")
    return 0


def read_password() -> str:
    if password := os.environ.get("FIRST_SUPERUSER_PASSWORD"):
        return password
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        sys.exit("the passwords differ")
    return password


def documented_settings() -> Settings:
    """Fixed settings, not the environment's: the schema (and the route table) must not change
    with someone's shell."""
    return Settings(
        environment="development",
        jwt_secret_key="openapi-export-" + "x" * 32,
        smtp_host=None,
        # The /auth/oauth routes exist only with a provider configured: one placeholder OpenID
        # provider documents them (nothing contacts it; discovery is read on first sign-in only).
        oidc_providers=["example"],
        oidc={
            "example": {
                "discovery_url": "https://id.example.com/.well-known/openid-configuration",
                "client_id": "x",
                "client_secret": "y",
            }
        },
    )


def export_openapi(output: str | None) -> int:
    schema = json.dumps(create_app(documented_settings()).openapi(), indent=2, ensure_ascii=False) + "\n"
    if output:
        Path(output).write_text(schema)
    else:
        sys.stdout.write(schema)
    return 0


def new_key(settings: Settings, algorithm: str | None, next_key: bool) -> int:
    """`keys new`: a private key in JWT_KEYS_DIR, and what it does once the app restarts."""
    algorithm = algorithm or settings.jwt_algorithm
    if algorithm == HMAC_ALGORITHM:
        print(
            "keys new: HS256 signs with secrets, not key files: make one with `make secret`, add it last "
            "to JWT_SECRET_KEYS (OLD,NEW) on every instance, and once all have restarted move it first "
            "(NEW,OLD); README: Rotating keys (or pass --algorithm RS256, ES256 or EdDSA)",
            file=sys.stderr,
        )
        return 1
    directory = settings.keys_dir
    try:  # one folder, one algorithm: a key the ring cannot load would stop the app at its next start
        existing = [load_key_file(path, algorithm) for path in key_files(directory)]
    except ConfigError as exc:
        print(
            f"keys new: nothing written: {exc}; every key in a JWT_KEYS_DIR must be a {algorithm} key "
            "the app can load (to switch algorithm, use a new folder)",
            file=sys.stderr,
        )
        return 1
    if next_key and not any(key.signs for key in existing):
        print(
            f"keys new: nothing written: no key in {directory} signs yet, and a next key needs one that "
            "does; run it without --next (NEXT=) first",
            file=sys.stderr,
        )
        return 1
    path = write_new_key(directory, algorithm, next_key=next_key)
    ring = inspect_token.existing_keyring(settings.model_copy(update={"jwt_algorithm": algorithm}))
    key = next(key for key in ring.keys if key.name == path.name)
    print(f"wrote {path} ({algorithm}, mode 0600)")
    print(f"kid:  {key.kid}")
    if next_key:
        promoted = path.with_name(path.name.removesuffix(NEXT_SUFFIX) + ".pem")
        print("role: next: published in the JWKS and verifying, not signing until renamed without .next")
        step = (
            f"copy it to every instance's JWT_KEYS_DIR and restart them to publish it; once all have and "
            f"verifiers have refetched the JWKS (cached {JWKS_MAX_AGE // 60} min; wait ~15) run "
            f"`mv {path} {promoted}` on each and restart to sign with it"
        )
    elif key is ring.signer:
        older = [other.name for other in ring.keys if other is not key and other.signs]
        print("role: signs: new tokens are signed with it once the app restarts")
        step = (
            f"restart, then after JWT_LIFETIME_SECONDS ({settings.jwt_lifetime_seconds} s + 10 s) delete "
            f"{', '.join(older)} and restart again (with several instances, publish first instead: an "
            "instance that has not restarted yet refuses this key's tokens; `make keys NEXT=1`)"
            if older
            else "`make keys NEXT=1` publishes the next key ahead of time"
        )
    else:
        print(f"role: verifies only: {ring.signer.name} sorts after it and keeps signing (name order)")
        step = f"rename it to sort after {ring.signer.name}, or remove that file, to sign with it"
    if algorithm != settings.jwt_algorithm:
        step = f"set JWT_ALGORITHM={algorithm} (now {settings.jwt_algorithm}) for it to be used; then {step}"
    print(f"next rotation step: {step}")
    return 0


def key_role(ring: KeyRing, key: Key) -> str:
    if key is ring.signer:
        return "signs"
    # Only a key file can be a `next` key; an HS256 secret after the first just verifies.
    return "next" if not key.signs and key.algorithm != HMAC_ALGORITHM else "verifies only"


def list_keys(settings: Settings) -> int:
    """`keys list`: every key of the ring with its kid and role; never a secret or a private key."""
    try:
        ring = inspect_token.existing_keyring(settings)
    except ConfigError as exc:
        print(f"keys list: {exc}", file=sys.stderr)
        return 1
    if ring.algorithm != HMAC_ALGORITHM:
        where = f"JWT_KEYS_DIR={settings.keys_dir}"
    else:
        where = "JWT_SECRET_KEYS" if settings.jwt_secret_keys else "JWT_SECRET_KEY"
    print(f"JWT_ALGORITHM={ring.algorithm}, {len(ring.keys)} key(s) from {where}")
    if ring.algorithm == HMAC_ALGORITHM and not ring.kid_in_header:
        print("(one secret: tokens carry no kid; with several JWT_SECRET_KEYS they name it by this kid)")
    rows = [("kid", "algorithm", "source", "role")]
    rows += [(key.kid, key.algorithm, key.name, key_role(ring, key)) for key in ring.keys]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    return 0


def inspect_command(settings: Settings, argument: str) -> int:
    """`token inspect`: 0 when the app would accept the token (its session aside), 1 if not,
    2 when it is not a JWT at all."""
    text = argument
    if argument == "-":  # the token need not sit in the shell's history
        try:
            text = sys.stdin.read(1024 * 1024)
        except UnicodeDecodeError:
            print("token inspect: not a JWT: standard input is not text", file=sys.stderr)
            return 2
    try:
        ring, problem = inspect_token.existing_keyring(settings), ""
    except ConfigError as exc:
        ring, problem = None, str(exc)
    try:
        result = inspect_token.inspect(text, settings, ring, problem)
    except inspect_token.NotAToken as exc:
        print(f"token inspect: not a JWT: {exc}", file=sys.stderr)
        return 2
    print(inspect_token.report(result))
    return 0 if result.accepted else 1


def print_routes(markdown: bool) -> int:
    """Every route, and where its code is: `METHOD path  module:function`, or README's table."""
    rows = route_table(create_app(documented_settings()))
    if markdown:
        print(routes_markdown(rows), end="")
        return 0
    width = max(len(f"{method} {path}") for method, path, _ in rows)
    for method, path, where in rows:
        print(f"{f'{method} {path}':<{width}}  {where}")
    return 0


def routes_markdown(rows: list[tuple[str, str, str]]) -> str:
    """README's route index: a table of every route and its code."""
    lines = ["| route | code |", "|---|---|"]
    lines += [f"| `{method} {path}` | `{where}` |" for method, path, where in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "migrate", help="build every index and run pending data migrations, once (safe to run twice at once)"
    )
    openapi = commands.add_parser("openapi", help="write the OpenAPI schema as JSON")
    openapi.add_argument("--output", help="a file (default: standard output)")
    routes = commands.add_parser("routes", help="every route and the module:function that answers it")
    routes.add_argument("--markdown", action="store_true", help="as README's route index")
    create = commands.add_parser(
        "create-superuser",
        help="create a verified superuser (password from FIRST_SUPERUSER_PASSWORD or a prompt)",
    )
    create.add_argument("--email", default=os.environ.get("FIRST_SUPERUSER_EMAIL"))
    keys = commands.add_parser("keys", help="the keys that sign access tokens").add_subparsers(
        dest="keys_command", required=True
    )
    new = keys.add_parser("new", help="write a new private key to JWT_KEYS_DIR (mode 0600)")
    new.add_argument(
        "--next", action="store_true", help="published and verifying, but not signing until renamed"
    )
    new.add_argument(
        "--algorithm", choices=[HMAC_ALGORITHM, *ASYMMETRIC_ALGORITHMS], help="default: JWT_ALGORITHM"
    )
    keys.add_parser("list", help="the configured keys: kid, algorithm, file, role (never secrets)")
    token = commands.add_parser("token", help="access tokens").add_subparsers(
        dest="token_command", required=True
    )
    inspect = token.add_parser("inspect", help="show a token and why the app would accept or refuse it")
    inspect.add_argument("token", help="the token, or - to read it from standard input")
    totp = commands.add_parser("totp", help="the stored TOTP secrets").add_subparsers(
        dest="totp_command", required=True
    )
    totp.add_parser(
        "reencrypt",
        help="re-encrypt every TOTP secret under the first TOTP_ENCRYPTION_KEYS key (before removing one)",
    )
    args = parser.parse_args(argv)
    if args.command == "openapi":
        return export_openapi(args.output)
    if args.command == "routes":
        return print_routes(args.markdown)
    if args.command == "keys":
        settings = load_settings_or_exit()
        if args.keys_command == "new":
            return new_key(settings, args.algorithm, args.next)
        return list_keys(settings)
    if args.command == "token":
        return inspect_command(load_settings_or_exit(), args.token)
    if args.command == "totp":
        return with_database(load_settings_or_exit(), reencrypt_totp)
    if args.command == "migrate":
        return with_database(load_settings_or_exit(), run_migrate)
    if not args.email:
        parser.error("--email is required (or set FIRST_SUPERUSER_EMAIL)")

    settings = load_settings_or_exit()
    password = read_password()
    return with_database(settings, lambda settings: create_superuser(settings, args.email, password))


def with_database(settings: Settings, command: Callable[[Settings], Awaitable[int]]) -> int:
    """Run `command` on MONGODB_URL, or on the embedded database when it is not set."""
    with contextlib.ExitStack() as stack:
        if not settings.mongodb_url:
            url = stack.enter_context(running_database(settings.embedded_db_bin, settings.data_dir))
            settings = settings.model_copy(update={"mongodb_url": url})
        return asyncio.run(command(settings))


if __name__ == "__main__":
    sys.exit(main())
