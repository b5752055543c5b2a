"""gunicorn under faults: a worker SIGKILLed under load, and SIGTERM during a slow request.

gunicorn runs with the production ``gunicorn.conf.py`` (2 gthread workers) on a free
loopback port, demo data, a FileSystemCache in a private temp dir, serial executor.
Each test is bounded (request counts and wait limits) and stops everything it started.
Counts are asserted, never durations.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import timing
from tests.support.procs import (
    DashClient,
    LoadLoop,
    Servers,
    backtest_run_body,
    callback_request,
    http,
    servers,
    wait_for,
)

pytestmark = [pytest.mark.slow]

CLIENT_THREADS = 6
APP_ENV = {
    "DATA_SOURCE": "demo",
    "ENGINE_EXECUTOR": "serial",
    "CACHE_TYPE": "FileSystemCache",
    "GUNICORN_THREADS": "4",
}


@pytest.fixture
def app() -> Iterator[tuple[Servers, dict[str, Any]]]:
    with servers("spl-fault-gu-") as group:
        group.start_gunicorn(APP_ENV, workers=2)
        client = DashClient.over_http(group.base_url)
        client.open_page("/")
        body = backtest_run_body(client)
        assert callback_request(group.base_url, body)() is None  # computed once, cached from now on
        yield group, body


def test_worker_killed_under_load_is_replaced_and_errors_are_bounded_by_in_flight(app) -> None:
    group, body = app
    workers = group.gunicorn_workers()
    assert len(workers) == 2
    victim = min(workers)
    with LoadLoop(
        callback_request(group.base_url, body, timeout_s=timing.limit(30)),
        threads=CLIENT_THREADS,
        max_requests=400,
        limit_s=timing.limit(90),
    ) as load:
        wait_for("10 requests served before the kill", lambda: load.done >= 10, limit_s=timing.limit(60))
        in_flight_at_kill = load.in_flight
        done_at_kill = load.done
        import os

        os.kill(victim, signal.SIGKILL)

        # The master notices the dead worker and forks a replacement.
        def replacement_forked() -> bool:
            now = group.gunicorn_workers()
            return len(now) == 2 and victim not in now

        replaced = wait_for(
            "the master forking a replacement worker", replacement_forked, limit_s=timing.limit(30)
        )
        wait_for(
            "20 more requests after the kill",
            lambda: load.done >= done_at_kill + 20,
            limit_s=timing.limit(60),
        )
    print(
        f"\nSIGKILL worker {victim}: {in_flight_at_kill} requests in flight, {len(load.failures)} failed "
        f"({sorted({r for _, r in load.failures})}), {load.ok} ok, replacement workers {sorted(group.gunicorn_workers())}"
    )
    assert replaced
    assert group.alive("app"), "the gunicorn master died"
    # Only requests already handed to the killed worker can fail, and each client thread has
    # at most one in flight at the kill. (Not ``in_flight_at_kill``: it is read just before the
    # kill, and a thread may start another request in between; that bound would be a race.)
    assert len(load.failures) <= CLIENT_THREADS
    assert all(not reason.startswith("HTTP 5") for _, reason in load.failures), load.failures
    # Recovered: a fresh batch all succeeds, on both workers.
    after = [callback_request(group.base_url, body)() for _ in range(6)]
    assert after == [None] * 6
    assert http(group.base_url, "GET", "/health") == (200, {"status": "ok"})


def _slow_post(base_url: str, body: dict[str, Any], first_part: int) -> tuple[socket.socket, bytes]:
    """Open a connection and send the headers and the first ``first_part`` body bytes only."""
    payload = json.dumps(body).encode()
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=timing.limit(60))
    head = (
        f"POST /_dash-update-component HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + payload[:first_part])
    return sock, payload[first_part:]


def _read_response(sock: socket.socket) -> tuple[int, Any]:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        payload = _dechunk(payload)
    return status, json.loads(payload)


def _dechunk(data: bytes) -> bytes:
    out, rest = [], data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


def test_sigterm_during_a_slow_request_lets_it_finish_and_the_master_exits_0(app) -> None:
    group, body = app
    # A slow request: the client sends half the body, then the rest 1.5 s later, so the
    # worker is inside the request (reading its body) when the master gets SIGTERM.
    sock, rest = _slow_post(group.base_url, body, first_part=200)
    try:
        time.sleep(timing.limit(0.5))  # the worker has read the headers (scaled: a busy machine is slower)
        group.kill("app", signal.SIGTERM)  # the master's process group: master and workers
        sigterm_at = time.monotonic()
        time.sleep(timing.limit(1.5))
        assert group.alive("app"), "gunicorn stopped before the in-flight request finished"
        sock.sendall(rest)
        status, answer = _read_response(sock)
    finally:
        sock.close()
    answered_at = time.monotonic()
    assert answered_at > sigterm_at
    assert status == 200
    assert answer["response"]["backtest-run-state"]["data"], "the request did not complete with its result"
    code = group.started["app"].proc.wait(timeout=timing.limit(60))
    assert code == 0, f"gunicorn exited {code}:\n{group.log_tail('app')}"
    # New connections are refused once it is gone.
    with pytest.raises(OSError):
        http(group.base_url, "GET", "/health", timeout_s=timing.limit(5))
