"""A fresh worker's first concurrent requests all see the finished app (no set-up race).

Runs in a new interpreter: like a gunicorn worker it imports ``dashapp.wsgi`` and serves
one app, and Dash's set-up must already be complete when the first requests arrive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Discovering the callbacks is itself a request, which would finish Dash's set-up: it is
# done in a first process, and a second, fresh one receives only the concurrent requests.
_DISCOVER = r"""
import json
from dashapp.wsgi import application
print(json.dumps(application.test_client().get("/_dash-dependencies").get_json()))
"""

_SCRIPT = r"""
import json, sys, threading
deps = json.loads(sys.stdin.read())
from dashapp.wsgi import app, application

page_callbacks = [d for d in deps if d["output"].startswith(("backtest-", "sweep-", "stocks-")) and not d.get("background")]

def body(dep):
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    return {
        "output": dep["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [{"id": i["id"], "property": i["property"], "value": None} for i in dep["inputs"]],
        "state": [{"id": s["id"], "property": s["property"], "value": None} for s in dep["state"]],
        "changedPropIds": [],
    }

statuses = []
barrier = threading.Barrier(12)

def hit(dep):
    client = application.test_client()
    barrier.wait()
    statuses.append(client.post("/_dash-update-component", json=body(dep)).status_code)

threads = [threading.Thread(target=hit, args=(page_callbacks[i % len(page_callbacks)],)) for i in range(12)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"n_page_callbacks": len(page_callbacks), "statuses": statuses}))
"""


def test_concurrent_first_requests_of_a_fresh_worker_all_succeed(tmp_path: Path) -> None:
    env = {**os.environ, "CACHE_DIR": str(tmp_path), "ENGINE_EXECUTOR": "serial", "PYTHONPATH": str(REPO)}
    found = subprocess.run(
        [sys.executable, "-c", _DISCOVER], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr[-2000:]
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=found.stdout.strip().splitlines()[-1],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["n_page_callbacks"] >= 8  # the pages' callbacks are registered in this app
    assert len(result["statuses"]) == 12
    assert all(status in (200, 204) for status in result["statuses"]), result["statuses"]
