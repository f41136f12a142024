"""SQLite's writers queue on domain.db's lock (every transaction holds it from BEGIN to COMMIT); a transaction
marked urgent (a callback's store, which a platform waits on) goes before the others that are waiting."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text

from domain.db import URGENT, make_engine


def _queue(engine: Engine):  # type: ignore[no-untyped-def]
    """The engine's writer queue, found through its begin listener's closure (it is not exposed otherwise)."""

    for fn in engine.dispatch.begin:
        for cell in getattr(fn, "__closure__", None) or ():
            if type(cell.cell_contents).__name__ == "_WriterQueue":
                return cell.cell_contents
    raise AssertionError("no writer queue")


def _wait_until(cond, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_an_urgent_transaction_goes_before_the_others_waiting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (who TEXT)"))
    queue = _queue(engine)
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def work(who: str, urgent: bool) -> None:
        eng = engine.execution_options(**{URGENT: True}) if urgent else engine
        with eng.begin() as c:
            order.append(who)
            c.execute(text("INSERT INTO t VALUES (:w)"), {"w": who})
            if who == "holder":
                holding.set()
                release.wait(5)

    threads = [threading.Thread(target=work, args=("holder", False))]
    threads[0].start()
    assert holding.wait(5)
    for who in ("batch-1", "batch-2"):
        threads.append(threading.Thread(target=work, args=(who, False)))
        threads[-1].start()
    time.sleep(0.05)  # the two are waiting on the queue
    threads.append(threading.Thread(target=work, args=("ack", True)))
    threads[-1].start()
    _wait_until(lambda: queue._urgent_waiting == 1)
    release.set()
    for t in threads:
        t.join(5)
    assert order[:2] == ["holder", "ack"] and sorted(order[2:]) == ["batch-1", "batch-2"]
    with engine.connect() as c:
        assert c.scalar(text("SELECT count(*) FROM t")) == 4
    engine.dispose()


def test_writers_of_both_lanes_in_many_threads_all_commit(tmp_path: Path) -> None:
    """No lost turn and no deadlock between the lanes (the others' file, then the database's)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (n INTEGER)"))
    urgent = engine.execution_options(**{URGENT: True})

    def work(i: int) -> None:
        for j in range(20):
            with (urgent if (i + j) % 3 == 0 else engine).begin() as c:
                c.execute(text("INSERT INTO t VALUES (:n)"), {"n": i * 100 + j})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    with engine.connect() as c:
        assert c.scalar(text("SELECT count(DISTINCT n) FROM t")) == 160
    engine.dispose()
