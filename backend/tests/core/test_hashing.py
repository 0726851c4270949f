"""The hashing pool: at most HASHING_CONCURRENCY argon2 operations at once, at a lower priority,
HASHING_QUEUE more waiting, and 503 with Retry-After for the rest instead of a pile-up."""

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest
from httpx import ASGITransport, AsyncClient, Response

from backend.apps.user.passwords import get_password_helper
from backend.tests.conftest import BASE_URL, Server, ServerFactory, fast_password_helper
from backend.tests.helpers import PASSWORD, mailed_token, register
from backend.tests.user.test_passwords import FLOWS, prepare

ADMITTED_WITHIN_SECONDS = 0.25  # a request still unanswered by then is waiting in the pool
POLL_SECONDS, POLLS = 0.01, 500  # waiting for the pool to reach a state: 5 s at most


class WaitingPasswordHelper:
    """Real (cheap) argon2, but every operation waits for the test's gate. It notes how many run
    at once, and the priority of the thread running each and of a thread that one starts."""

    def __init__(self) -> None:
        self.inner = fast_password_helper()
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.operations = 0
        self.niceness: list[tuple[int, int, int]] = []  # (getpriority, /proc's nice, a child thread's)

    def hash(self, password: str) -> str:
        return self._run(self.inner.hash, password)

    def verify_and_update(self, plain: str, hashed: str) -> tuple[bool, str | None]:
        return self._run(self.inner.verify_and_update, plain, hashed)

    def generate(self) -> str:
        return self.inner.generate()

    def _run(self, operation, *args):
        with self.lock:
            self.running += 1
            self.operations += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.niceness.append(_niceness_here())
        self.started.release()
        try:
            self.gate.wait(timeout=10)
            return operation(*args)
        finally:
            with self.lock:
                self.running -= 1

    async def wait_until_started(self) -> None:
        assert await asyncio.to_thread(self.started.acquire, True, 5), "nothing was hashed"


def _niceness_here() -> tuple[int, int, int]:
    """The calling thread's nice value, asked two ways, and that of a thread it starts (as
    libargon2 starts its lanes)."""
    if not sys.platform.startswith("linux"):
        return (0, 0, 0)
    thread_id = threading.get_native_id()
    stat = Path(f"/proc/self/task/{thread_id}/stat").read_text()
    proc_nice = int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of proc(5), after pid and name
    child: list[int] = []
    lane = threading.Thread(
        target=lambda: child.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    )
    lane.start()
    lane.join()
    return (os.getpriority(os.PRIO_PROCESS, thread_id), proc_nice, child[0])


def use(server: Server, helper: WaitingPasswordHelper) -> WaitingPasswordHelper:
    server.app.dependency_overrides[get_password_helper] = lambda: helper
    return helper


def log_in(client: AsyncClient, email: str) -> "asyncio.Task[Response]":
    return asyncio.create_task(client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD}))


def assert_busy(response: Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["detail"]["code"] == "SERVER_BUSY"
    assert response.json()["detail"]["reason"]
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("flow", FLOWS)
async def test_a_full_pool_answers_503_with_retry_after(make_server: ServerFactory, flow: str) -> None:
    async with make_server(hashing_concurrency=1, hashing_queue=0) as server:
        state = await prepare(server)
        waiting = use(server, WaitingPasswordHelper())
        occupying = log_in(server.client(), "hasher@example.com")
        await waiting.wait_until_started()

        refused = await FLOWS[flow](server.client(), state)
        waiting.gate.set()

        assert_busy(refused)
        assert (await occupying).status_code == 200
        assert waiting.operations == 1  # the refused request hashed nothing, now or later
        # The place is free again once the operation in it has ended.
        assert (await log_in(server.client(), "hasher@example.com")).status_code == 200


async def test_no_more_than_hashing_concurrency_operations_run_at_once(make_server: ServerFactory) -> None:
    async with make_server(hashing_concurrency=2, hashing_queue=3) as server:
        await register(server.client(), "crowd@example.com")
        waiting = use(server, WaitingPasswordHelper())
        admitted: list[asyncio.Task[Response]] = []
        refused = None
        # While the gate is closed an admitted login cannot finish: one that answers was refused.
        # Each from a client of its own, so that only the whole pool's bound applies.
        for n in range(12):
            attempt = log_in(client_at(server, f"192.0.2.{n + 1}"), "crowd@example.com")
            done, _ = await asyncio.wait({attempt}, timeout=ADMITTED_WITHIN_SECONDS)
            if done:
                refused = attempt.result()
                break
            admitted.append(attempt)
        waiting.gate.set()
        answers = await asyncio.gather(*admitted)

        assert refused is not None
        assert_busy(refused)
        assert len(admitted) == 2 + 3  # HASHING_CONCURRENCY running + HASHING_QUEUE waiting
        assert [answer.status_code for answer in answers] == [200] * 5
        assert waiting.most_at_once == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
async def test_hashing_threads_run_at_a_lower_priority(server: Server) -> None:
    waiting = use(server, WaitingPasswordHelper())
    waiting.gate.set()
    event_loop_thread = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, event_loop_thread)

    await register(server.client(), "nice@example.com")

    lowered = max(before, 10)  # nice 10, or lower still if the whole process already was
    assert waiting.niceness == [(lowered, lowered, lowered)]
    assert os.getpriority(os.PRIO_PROCESS, event_loop_thread) == before  # only the pool's threads


async def test_forgot_password_needs_no_place_in_a_full_pool(make_server: ServerFactory) -> None:
    async with make_server(hashing_concurrency=1, hashing_queue=0) as server:
        client = server.client()
        await register(client, "remembers@example.com")
        waiting = use(server, WaitingPasswordHelper())
        occupying = log_in(client, "remembers@example.com")
        await waiting.wait_until_started()

        known = await client.post("/auth/forgot-password", json={"email": "remembers@example.com"})
        unknown = await client.post("/auth/forgot-password", json={"email": "forgotten@example.com"})
        await mailed_token(client, "/reset-password", "remembers@example.com")  # while the pool is full
        waiting.gate.set()

        assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, None)
        assert known.headers.keys() == unknown.headers.keys()
        assert (await occupying).status_code == 200
        assert waiting.operations == 1  # the login alone


async def test_a_flood_of_forgot_password_never_makes_a_login_answer_503(make_server: ServerFactory) -> None:
    # Limits off, as in a load test: one client asking for resets as fast as it can, another
    # logging in. Before, each reset took a place in the hashing pool and the login got 503.
    async with make_server(hashing_concurrency=1, hashing_queue=1, rate_limit_enabled=False) as server:
        client = server.client()
        await register(client, "flooded@example.com")
        flood = [
            client.post("/auth/forgot-password", json={"email": f"someone{i}@example.com"}) for i in range(40)
        ]
        flood.append(client.post("/auth/forgot-password", json={"email": "flooded@example.com"}))
        answers = await asyncio.gather(*flood, log_in(client, "flooded@example.com"))

        assert [a.status_code for a in answers[:-1]] == [202] * 41
        assert answers[-1].status_code == 200, answers[-1].text


def client_at(server: Server, address: str) -> AsyncClient:
    """A client whose requests come from `address` (the ASGI peer, as a socket would give it)."""
    client = AsyncClient(transport=ASGITransport(server.asgi, client=(address, 40000)), base_url=BASE_URL)
    server.clients.append(client)
    return client


async def answered(attempts: list["asyncio.Task[Response]"], count: int) -> list[Response]:
    """The answers once `count` of `attempts` have one (or those within 5 s): while the gate is
    closed, an attempt that answers was refused."""
    for _ in range(POLLS):
        if sum(attempt.done() for attempt in attempts) >= count:
            break
        await asyncio.sleep(POLL_SECONDS)
    return [attempt.result() for attempt in attempts if attempt.done()]


async def until_admitted(server: Server, places: int) -> None:
    """Wait (5 s at most) until `places` places of the app's hashing pool are taken."""
    pool = server.app.state.modules["user"].kit.hashing
    for _ in range(POLLS):
        if pool.admitted == places:
            break
        await asyncio.sleep(POLL_SECONDS)
    assert pool.admitted == places


@pytest.mark.parametrize("arrives", ["peer", "forwarded"])
async def test_one_client_flooding_logins_never_makes_another_clients_login_answer_503(
    make_server: ServerFactory, arrives: str
) -> None:
    # Limits off, as in a load test. Capacity 1 + 7 = 8 places, a quarter (2) for each client.
    overrides = {"trusted_proxies": ["127.0.0.1"]} if arrives == "forwarded" else {}
    async with make_server(
        hashing_concurrency=1, hashing_queue=7, rate_limit_enabled=False, **overrides
    ) as server:
        await register(server.client(), "flooder@example.com")
        await register(server.client(), "bystander@example.com")
        waiting = use(server, WaitingPasswordHelper())
        if arrives == "peer":
            flooder, bystander = client_at(server, "203.0.113.1"), client_at(server, "198.51.100.2")
        else:  # one balancer's address, the real clients named by it (X-Forwarded-For)
            flooder = server.client(headers={"X-Forwarded-For": "203.0.113.1"})
            bystander = server.client(headers={"X-Forwarded-For": "198.51.100.2"})

        flood = [log_in(flooder, "flooder@example.com") for _ in range(12)]
        refused = await answered(flood, 12 - 2)
        await until_admitted(server, 2)  # the flooder's share, and no more
        logins = [log_in(bystander, "bystander@example.com") for _ in range(2)]
        await until_admitted(server, 4)  # both admitted during the flood
        waiting.gate.set()
        flood_answers = await asyncio.gather(*flood)
        bystander_answers = await asyncio.gather(*logins)

        assert [answer.status_code for answer in bystander_answers] == [200, 200]
        assert len(refused) == 12 - 2  # the flooder beyond its share, answered at once
        for answer in refused:
            assert_busy(answer)
        assert sorted(answer.status_code for answer in flood_answers) == [200, 200] + [503] * 10
        # The flooder's places are given back as its operations end: it is admitted again.
        await until_admitted(server, 0)
        assert (await log_in(flooder, "flooder@example.com")).status_code == 200


async def test_clients_at_their_share_still_run_at_most_hashing_concurrency_at_once(
    make_server: ServerFactory,
) -> None:
    # Capacity 2 + 6 = 8, a share of 2: four clients fill the pool, a fifth is refused, and no
    # more than HASHING_CONCURRENCY operations (the memory bound) ever run at once.
    async with make_server(hashing_concurrency=2, hashing_queue=6, rate_limit_enabled=False) as server:
        await register(server.client(), "crowd@example.com")
        waiting = use(server, WaitingPasswordHelper())
        attempts = []
        refused: list[int] = []  # how many of each client's logins were refused at once
        for n in range(4):
            client = client_at(server, f"192.0.2.{n + 1}")
            mine = [log_in(client, "crowd@example.com") for _ in range(3)]
            refused.append(len(await answered(mine, 1)))
            await until_admitted(server, 2 * (n + 1))
            attempts += mine
        fifth = await log_in(client_at(server, "192.0.2.9"), "crowd@example.com")
        waiting.gate.set()
        answers = await asyncio.gather(*attempts)

        assert refused == [1, 1, 1, 1]  # each client's third login, beyond its share
        assert_busy(fifth)  # every place taken, though this client held none
        assert sorted(answer.status_code for answer in answers) == [200] * 8 + [503] * 4
        assert waiting.most_at_once == 2
        assert waiting.operations == 8
