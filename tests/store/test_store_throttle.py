"""The sign-in limiter counts in the database: atomic across processes, per account and address."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from bastion.store.db import Store
from bastion.store.models import LoginAttempts, utcnow
from bastion.store.throttle import KNOWN_DAYS, AttemptCounter


def _counter(store: Store, attempts: int = 5, window_s: float = 900, spray: int = 20) -> AttemptCounter:
    return AttemptCounter(store, attempts, window_s, spray)


def test_the_limit_holds_only_for_the_offending_pair(store: Store) -> None:
    counter = _counter(store)
    assert [counter.begin("Vic", "10.0.0.1") for _ in range(5)] == [0] * 5
    wait = counter.begin("vic", "10.0.0.1")
    assert 0 < wait <= 901
    assert counter.begin("maya", "10.0.0.1") == 0, "another account behind the same address"
    assert counter.begin("vic", "10.0.0.2") == 0, "the same account from elsewhere"
    assert counter.count("vic", "10.0.0.1") == (5, 6), "a refused attempt is not counted"


def test_a_success_clears_the_pair_and_makes_the_account_known(store: Store) -> None:
    counter = _counter(store, attempts=3, spray=4)
    counter.begin("maya", "10.0.0.9")
    counter.succeeded("maya", "10.0.0.9")
    assert counter.count("maya", "10.0.0.9") == (0, 0)
    for name in ("a", "b", "c", "d"):
        assert counter.begin(name, "10.0.0.9") == 0
    assert counter.begin("e", "10.0.0.9") > 0, "spraying: the address is held"
    assert counter.begin("maya", "10.0.0.9") == 0, "an account known at the address is not held by it"


def test_windows_restart_and_old_counters_are_dropped(store: Store) -> None:
    counter = _counter(store, attempts=2, window_s=60)
    then = utcnow() - timedelta(seconds=120)
    assert counter.begin("a", "1.1.1.1", then) == counter.begin("a", "1.1.1.1", then) == 0
    assert counter.begin("a", "1.1.1.1", then) > 0
    counter.succeeded("k", "3.3.3.3", utcnow() - timedelta(days=KNOWN_DAYS + 1))
    assert counter.begin("a", "1.1.1.1") == 0, "the window has passed"
    assert counter.begin("b", "2.2.2.2") == 0
    with store.read() as session:
        keys = set(session.scalars(select(LoginAttempts.key)))
    assert {key.split(":")[0] + ":" + key.rsplit("|", 1)[-1].split(":")[-1] for key in keys} == {
        "pair:1.1.1.1",
        "site:1.1.1.1",
        "pair:2.2.2.2",
        "site:2.2.2.2",
    }


def test_the_typed_account_name_is_never_stored(store: Store) -> None:
    typed = "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"  # a password typed as the user name
    _counter(store).begin(typed, "10.3.3.3")
    with store.read() as session:
        keys = list(session.scalars(select(LoginAttempts.key)))
    assert keys and not any(typed.lower() in key or typed in key for key in keys)


def test_concurrent_attempts_from_several_stores_are_counted_atomically(store: Store) -> None:
    """Eight stores (one per simulated server process, each its own engine and pool) race 40
    attempts at one pair: exactly the limit gets through."""
    url = store.engine.url.render_as_string(hide_password=False)
    stores = [Store.open(url) for _ in range(8)]
    try:
        counters = [_counter(s) for s in stores]
        with ThreadPoolExecutor(max_workers=16) as pool:
            waits = list(pool.map(lambda i: counters[i % 8].begin("vic", "10.1.1.1"), range(40)))
    finally:
        for opened in stores:
            opened.close()
    assert waits.count(0) == 5 and all(w > 0 for w in waits if w)
    assert _counter(store).count("vic", "10.1.1.1") == (5, 5)


def _attempt_in_process(url: str, results: multiprocessing.Queue[int]) -> None:
    store = Store.open(url)
    try:
        results.put(_counter(store).begin("vic", "10.2.2.2"))
    finally:
        store.close()


@pytest.mark.slow
def test_real_processes_share_the_count(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[int] = context.Queue()
    workers = [context.Process(target=_attempt_in_process, args=(url, results)) for _ in range(7)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    waits = [results.get(timeout=5) for _ in workers]
    assert waits.count(0) == 5 and len(waits) == 7
