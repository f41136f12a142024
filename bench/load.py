"""The load process for bench/interactive.py: reads prepared requests (JSON lines on stdin: method, path, headers,
body), sends them from N threads with keep-alive connections, prints one JSON line of results.

    python -m bench.load HOST PORT CONCURRENCY < requests.jsonl
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any


def run(host: str, port: int, concurrency: int, requests: list[dict[str, Any]]) -> dict[str, Any]:
    lock = threading.Lock()
    queue = list(reversed(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                req = queue.pop()
            started = time.perf_counter()
            try:
                conn.request(req["method"], req["path"], body=req["body"].encode(), headers=req["headers"])
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
                status = 599
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"requests": len(latencies), "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "statuses": statuses}


if __name__ == "__main__":
    host, port, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    reqs = [json.loads(line) for line in sys.stdin if line.strip()]
    print(json.dumps(run(host, port, conc, reqs)))
