"""How the built frontend travels: precompressed files, cache lifetimes, no public source maps,
robots.txt. The API beside it is never compressed (BREACH)."""

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from urllib.robotparser import RobotFileParser

import pytest
from httpx import AsyncClient

from backend.core.token_pages import TOKEN_PAGES
from backend.tests.helpers import REPO, signed_up

NODE = shutil.which("node")
SCRIPT = "console.log('the app');\n" * 100
INDEX = "<!doctype html><title>app shell</title>" + "<!-- padding -->" * 100
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JS = "assets/index-Bc1_x-9Z.js"
BUILT = {JS: SCRIPT, "index.html": INDEX}  # each with .br (here not really brotli) and .gz twins
BROTLI = {name: f"brotli of {name}".encode() for name in BUILT}
GZIP = {name: gzip.compress(text.encode(), mtime=0) for name, text in BUILT.items()}
UNBROTLI = (
    "const zlib = require('zlib'), fs = require('fs');"
    "process.stdout.write(zlib.brotliDecompressSync(fs.readFileSync(process.argv[1])));"
)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as `npm run build` leaves it: hashed assets, their .br and .gz twins, top-level files."""
    assets = tmp_path / "assets"
    assets.mkdir()
    for name, text in BUILT.items():
        (tmp_path / name).write_text(text)
        (tmp_path / f"{name}.br").write_bytes(BROTLI[name])
        (tmp_path / f"{name}.gz").write_bytes(GZIP[name])
    (assets / "index-kLKer5Z3.css").write_text("body{margin:0}")  # too small to be worth a twin
    (assets / "logo.svg").write_text("<svg/>")  # unhashed: a file someone put in public/assets/
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    return tmp_path


async def raw(client: AsyncClient, path: str, accept_encoding: str | None, **headers: str):  # type: ignore[no-untyped-def]
    """The response and its bytes as sent, not decoded. `None` sends no Accept-Encoding at all."""
    request = client.build_request("GET", path, headers=headers)
    del request.headers["accept-encoding"]  # httpx's default, gzip and deflate
    if accept_encoding is not None:
        request.headers["accept-encoding"] = accept_encoding
    response = await client.send(request, stream=True)
    body = b"".join([chunk async for chunk in response.aiter_raw()])
    await response.aclose()
    return response, body


async def test_static_files_go_precompressed_and_the_api_never(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        brotli, brotli_body = await raw(client, f"/{JS}", "gzip, deflate, br, zstd")
        gzipped, gzipped_body = await raw(client, f"/{JS}", "gzip, deflate")
        await signed_up(client, "compressed@example.com")
        api = [
            await raw(client, path, "gzip, deflate, br", Origin="https://test")
            for path in ["/health", "/users/me", "/auth/sessions", "/openapi.json"]
        ]

    assert brotli.status_code == 200
    assert brotli_body == BROTLI[JS]
    assert brotli.headers["content-encoding"] == "br"
    assert brotli.headers["content-length"] == str(len(brotli_body))
    assert brotli.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "accept-encoding" in brotli.headers["vary"].lower()
    assert gzipped_body == GZIP[JS]
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.headers["content-length"] == str(len(gzipped_body))
    assert "accept-encoding" in gzipped.headers["vary"].lower()
    assert brotli.headers["etag"] != gzipped.headers["etag"]  # one tag per representation
    for response, body in api:  # BREACH: what may carry a secret is never compressed
        assert response.status_code == 200, response.url
        assert "content-encoding" not in response.headers, response.url
        assert len(body) == int(response.headers["content-length"]), response.url


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("br", "br"),
        ("gzip, br;q=0.1", "gzip"),  # weights are respected
        ("br;q=0, gzip", "gzip"),
        ("BR;Q=0.5", "br"),
        ("x-gzip", "gzip"),
        ("*", "br"),
        ("gzip, *;q=0", "gzip"),
        ("br;q=0.0001, gzip;q=1.5", None),  # neither weight is a qvalue: neither is accepted
        ("br;q=abc, gzip;q=-1, ;;, ,=,", None),
        ("br;q=0, gzip;q=0", None),
        ("*;q=0", None),
        ("identity", None),
        ("deflate, zstd", None),
        ("", None),
        (None, None),
        ("a" * 4000 + ", " + ";q=" * 500, None),
    ],
)
async def test_the_coding_follows_accept_encoding(make_server, dist, accept_encoding, coding) -> None:
    expected = {"br": BROTLI[JS], "gzip": GZIP[JS], None: SCRIPT.encode()}[coding]
    async with make_server(frontend_dist=dist) as server:
        response, body = await raw(server.client(), f"/{JS}", accept_encoding)

    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert body == expected
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "accept-encoding" in response.headers["vary"].lower()


async def test_the_app_shell_goes_compressed_and_revalidated(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        pages = [await raw(client, path, "br, gzip", **BROWSER) for path in ["/", "/login", "/index.html"]]
        plain, plain_body = await raw(client, "/sessions", None, **BROWSER)

    for response, body in pages:
        assert response.status_code == 200, response.url
        assert response.headers["content-encoding"] == "br"
        assert body == BROTLI["index.html"]
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["cache-control"] == "no-cache"
        assert "accept-encoding" in response.headers["vary"].lower()
    assert plain_body == INDEX.encode() and plain.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("path", "cache_control", "content_type"),
    [
        ("/assets/index-Bc1_x-9Z.js", IMMUTABLE, "text/javascript; charset=utf-8"),
        ("/assets/index-kLKer5Z3.css", IMMUTABLE, "text/css; charset=utf-8"),
        ("/assets/logo.svg", SHORT, "image/svg+xml"),  # no hash in its name: it can change
        ("/favicon.svg", SHORT, "image/svg+xml"),
        ("/robots.txt", SHORT, "text/plain; charset=utf-8"),
        ("/", "no-cache", "text/html; charset=utf-8"),
    ],
)
async def test_each_kind_of_file_gets_its_cache_lifetime(
    make_server, dist, path, cache_control, content_type
) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        response, _ = await raw(client, path, "br, gzip", **BROWSER)
        again, again_body = await raw(
            client, path, "br, gzip", **BROWSER, **{"If-None-Match": response.headers["etag"]}
        )

    assert response.status_code == 200
    assert response.headers["cache-control"] == cache_control
    assert response.headers["content-type"] == content_type
    assert again.status_code == 304 and again_body == b""
    assert again.headers["cache-control"] == cache_control
    assert again.headers.get("vary") == response.headers.get("vary")


async def test_the_twins_are_no_files_of_their_own(make_server, dist) -> None:
    async with make_server(frontend_dist=dist) as server:
        client = server.client()
        for path in ["/assets/index-Bc1_x-9Z.js.br", "/assets/index-Bc1_x-9Z.js.gz", "/index.html.br"]:
            response = await client.get(path, headers={"Accept": "*/*", "Accept-Encoding": "br"})
            assert response.status_code == 404, path


def test_robots_txt_keeps_crawlers_off_the_pages_whose_links_carry_tokens() -> None:
    robots = RobotFileParser()
    robots.parse((REPO / "frontend" / "public" / "robots.txt").read_text().splitlines())

    for page in TOKEN_PAGES:
        assert not robots.can_fetch("Googlebot", f"https://farm.example{page}?token=abc"), page
    for page in ["/", "/login", "/register", "/forgot-password", "/favicon.svg"]:
        assert robots.can_fetch("Googlebot", f"https://farm.example{page}"), page


def test_the_page_says_what_the_app_is() -> None:
    index = (REPO / "frontend" / "index.html").read_text()

    assert '<meta name="description" content="FARM Auth' in index


@pytest.mark.skipif(NODE is None, reason="Node.js runs the frontend's build scripts")
def test_production_builds_publish_no_source_maps_and_are_precompressed() -> None:
    """The build config as Vite resolves it for `vite build` (make frontend)."""
    frontend = REPO / "frontend"
    loaded = subprocess.run(
        [
            str(NODE),
            "--input-type=module",
            "--eval",
            "import { loadConfigFromFile } from 'vite';"
            "const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' },"
            " 'vite.config.ts', process.cwd(), 'silent');"
            "console.log(JSON.stringify(loaded.config.build ?? {}));",
        ],
        cwd=frontend,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    build = json.loads(loaded.stdout.strip().splitlines()[-1])
    scripts = json.loads((frontend / "package.json").read_text())["scripts"]

    assert build.get("sourcemap", False) is False
    assert scripts["build"].endswith("vite build && node scripts/precompress.mjs dist")


@pytest.mark.skipif(NODE is None, reason="Node.js runs the frontend's build scripts")
def test_the_precompress_script_writes_brotli_and_gzip_beside_each_compressible_file(tmp_path) -> None:
    (tmp_path / "assets").mkdir()
    big = {
        "index.html": INDEX,
        "assets/index-Bc1_x-9Z.js": SCRIPT,
        "assets/index-kLKer5Z3.css": "body { margin: 0 }\n" * 100,
        "assets/data-0a1b2c3d.json": json.dumps([{"task": n} for n in range(100)]),
        "robots.txt": "Disallow: /verify\n" * 100,
        "icon.svg": "<svg><path d='M0 0'/></svg>\n" * 100,
    }
    for name, text in big.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "favicon.svg").write_text("<svg/>")  # tiny: not worth a twin
    (tmp_path / "assets" / "photo.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 40)  # compressed already

    def run() -> None:
        subprocess.run(
            [str(NODE), "scripts/precompress.mjs", str(tmp_path)],
            cwd=REPO / "frontend",
            check=True,
            capture_output=True,
            timeout=60,
        )

    run()
    run()  # a second run rewrites the twins and compresses no twin

    twins = [path for path in tmp_path.rglob("*") if path.suffix in (".br", ".gz")]
    written = sorted(str(path.relative_to(tmp_path)) for path in twins)
    assert written == sorted(f"{name}{suffix}" for name in big for suffix in [".br", ".gz"])
    for name, text in big.items():
        original = (tmp_path / name).read_bytes()
        assert gzip.decompress((tmp_path / f"{name}.gz").read_bytes()) == original == text.encode()
        assert (tmp_path / f"{name}.br").stat().st_size < len(original)
        unbrotli = subprocess.run(
            [str(NODE), "--eval", UNBROTLI, f"{tmp_path / name}.br"],
            capture_output=True,
            check=True,
            timeout=60,
        )
        assert unbrotli.stdout == original, name
