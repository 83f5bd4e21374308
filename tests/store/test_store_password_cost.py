"""Production hashes passwords at full argon2id cost; only this test process runs it cheaper."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type, profiles

from bastion.store import accounts


def test_production_cost_is_rfc9106_low_memory_argon2id() -> None:
    cost = accounts.PRODUCTION_COST
    assert cost == profiles.RFC_9106_LOW_MEMORY
    assert cost.type is Type.ID
    assert (cost.time_cost, cost.memory_cost, cost.parallelism) == (3, 64 * 1024, 4)


@pytest.mark.slow
def test_bastion_user_create_stores_a_production_cost_hash(tmp_path: Path) -> None:
    database = tmp_path / "store.sqlite3"
    env = {**os.environ, "BASTION_PASSWORD": "correct horse battery staple"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bastion",
            "user",
            "create",
            "alice",
            "--database-url",
            f"sqlite:///{database}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE username = 'alice'").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PasswordHasher().verify(stored, "correct horse battery staple")


def test_the_suite_runs_cheap_and_a_cheap_hash_is_rehashed_at_production_cost() -> None:
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST).hash("x" * 12)
    assert PasswordHasher.from_parameters(accounts.PRODUCTION_COST).check_needs_rehash(cheap)
