"""First start on a fresh clone: how long until the sandbox answers (issue 13: `make demo` under 60 s).

    .venv/bin/python -m bench.firststart [--no-baseline] [--keep]

Clones this repository's HEAD into a temporary directory with empty uv and pip caches (a fresh machine has none)
and times the phases `make demo` goes through, with the same commands:

1. venv + install: `make install` (uv when it can be had, else pip);
2. migrate: `ordertalk db upgrade` (SQLite, var/ordertalk.db);
3. demo data: `ordertalk demo-data --if-empty`;
4. first answer: `ORDERTALK_SANDBOX=1 ordertalk serve --port N` until `帮助` sent to the sandbox API is answered.

Baseline in the same run: the install as it was before (`python -m venv`, `pip install --upgrade pip`,
`pip install -e .`) in a second fresh clone with its own empty caches. The CJK font is not installed here (the
`fonts` target is a no-op on a machine that has it). Results: bench/results/firststart.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"


def _run(cmd: list[str] | str, cwd: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, shell=isinstance(cmd, str), stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    return time.perf_counter() - t


def _fresh(base: Path, name: str) -> tuple[Path, dict[str, str]]:
    clone = base / name
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERTALK_", "VIRTUAL_ENV", "UV_"))}
    env.update(UV_CACHE_DIR=str(base / f"{name}-uv-cache"), PIP_CACHE_DIR=str(base / f"{name}-pip-cache"),
               ORDERTALK_DATABASE_URL="sqlite:///var/ordertalk.db")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
    return clone, env


def _first_answer(clone: Path, env: dict[str, str]) -> float:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    t = time.perf_counter()
    server = subprocess.Popen([str(clone / ".venv/bin/ordertalk"), "serve", "--port", str(port)], cwd=clone,
                              env=dict(env, ORDERTALK_SANDBOX="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        body = json.dumps({"user": 1, "text": "帮助"}).encode()
        while time.perf_counter() - t < 120:
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/sandbox/api/messages", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                if json.load(urllib.request.urlopen(req, timeout=5))["replies"]:
                    return time.perf_counter() - t
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the sandbox did not answer within 120 s")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-baseline", action="store_true", help="skip the pip-only install")
    ap.add_argument("--keep", action="store_true", help="keep the temporary clones")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="ordertalk-firststart-"))
    load_before = os.getloadavg()
    phases: dict[str, float] = {}
    baseline: dict[str, float] = {}
    try:
        clone, env = _fresh(base, "demo")
        phases["venv + install (make install)"] = _run(["make", "-s", "install"], clone, env)
        phases["migrate (db upgrade)"] = _run([str(clone / ".venv/bin/ordertalk"), "db", "upgrade"], clone, env)
        phases["demo data"] = _run([str(clone / ".venv/bin/ordertalk"), "demo-data", "--if-empty"], clone, env)
        phases["first sandbox answer"] = _first_answer(clone, env)
        if not args.no_baseline:
            old, old_env = _fresh(base, "pip")
            baseline["venv + install (make install)"] = _run(
                f"{sys.executable} -m venv .venv && .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e .",
                old, old_env)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    total = sum(phases.values())
    load = os.getloadavg()
    print(f"First start on a fresh clone (empty caches; load average {load_before[0]:.2f} before, "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} after; {os.cpu_count()} CPUs)")
    print(f"{'phase':<34}{'now':>9}{'pip only (before)':>20}")
    for name, secs in phases.items():
        before = f"{baseline[name]:.1f}s" if name in baseline else ""
        print(f"{name:<34}{secs:>8.1f}s{before:>20}")
    print(f"{'total until the sandbox answers':<34}{total:>8.1f}s{'(target 60 s)':>20}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "firststart.json").write_text(json.dumps({
        "loadavg_before": load_before, "loadavg_after": load, "cpus": os.cpu_count(), "python": platform.python_version(),
        "phases_s": {k: round(v, 2) for k, v in phases.items()}, "total_s": round(total, 2),
        "baseline_pip_only_s": {k: round(v, 2) for k, v in baseline.items()}}, indent=2))


if __name__ == "__main__":
    main()
