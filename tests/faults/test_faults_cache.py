"""The shared Redis cache stopped and restarted under load: no failed user request, only misses.

gunicorn (production config, 2 workers) uses ``CACHE_TYPE=RedisCache`` on a loopback
redis-server. Client threads run the Backtest page's Run callback (a few repeated parameter
sets, and parameter sets never seen before, so there are hits and misses) and /health in a bounded loop while Redis is SIGKILLed and,
a few seconds later, started again on the same port. Every request must answer 200 with
its result. After the restart the app writes results to Redis again. Counts only.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from tests.support import timing
from tests.support.procs import (
    DashClient,
    LoadLoop,
    backtest_run_body,
    callback_request,
    http,
    mixed_requests,
    servers,
    wait_for,
)

pytestmark = [pytest.mark.slow]


def _mixed_requests(base_url: str, client: DashClient, bodies: list[dict]) -> Callable[[], str | None]:
    """Repeated parameter sets (hits, also in each worker's memory), parameter sets never
    seen before (misses: computed, then written to Redis when it is up) and /health."""
    return mixed_requests(base_url, client, bodies, timeout_s=timing.limit(30))


def test_redis_restart_under_load_fails_no_request(tmp_path) -> None:
    import redis

    with servers("spl-fault-cache-") as group:
        port = group.start_redis()
        url = f"redis://127.0.0.1:{port}/0"
        group.start_gunicorn(
            {
                "DATA_SOURCE": "demo",
                "ENGINE_EXECUTOR": "serial",
                "CACHE_TYPE": "RedisCache",
                "CACHE_REDIS_URL": url,
            },
            workers=2,
        )
        client = DashClient.over_http(group.base_url)
        client.open_page("/")
        bodies = [backtest_run_body(client, {"backtest-top_n": n}) for n in (3, 4, 5)]
        store = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
        assert callback_request(group.base_url, bodies[0])() is None
        assert any(store.scan_iter(match="spl:results:*")), "the first result was not stored in Redis"

        with LoadLoop(
            _mixed_requests(group.base_url, client, bodies),
            threads=4,
            max_requests=600,
            limit_s=timing.limit(120),
        ) as load:
            wait_for("20 requests with Redis up", lambda: load.done >= 20, limit_s=timing.limit(60))
            group.kill("redis", signal.SIGKILL)
            group.stop("redis")
            during = load.done
            wait_for(
                "20 requests with Redis down", lambda: load.done >= during + 20, limit_s=timing.limit(60)
            )
            group.start_redis(port)  # same port: the app's URL does not change
            restarted = load.done
            # SafeCache skips a failed backend for RETRY_AFTER_S (5 s), then uses it again.
            wait_for(
                "results written to the restarted Redis",
                lambda: any(store.scan_iter(match="spl:results:*")),
                limit_s=timing.limit(60),
            )
            wait_for(
                "20 requests after the restart", lambda: load.done >= restarted + 20, limit_s=timing.limit(60)
            )
        print(
            f"\nRedis killed and restarted under load: {load.ok} ok, {len(load.failures)} failed "
            f"({load.done - during} requests after the kill)"
        )
        assert load.failures == [], load.failures[:5]
        assert load.ok >= 60
        assert group.alive("app")
        _status, ready = http(group.base_url, "GET", "/ready")
        assert "cache" not in ready.get("down", []), ready
