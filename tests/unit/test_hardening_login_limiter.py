"""The failed-login limit cannot be raced, reset by another account, or dodged by
changing address (issue 18, defect 2)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ccmgr import users
from ccmgr.ratelimit import LoginLimiter


def login(harness, username: str, password: str, address: str = "127.0.0.1") -> int:
    return harness.client.simulate_post(
        "/proxy/auth/login", remote_addr=address,
        body=json.dumps({"username": username, "password": password})).status_code


def add_user(harness, name: str, password: str) -> None:
    harness.services.store.update(lambda doc: users.add_user(doc, name, password))


def test_concurrent_wrong_passwords_check_at_most_the_limit(harness):
    start = threading.Barrier(40)

    def guess(i: int) -> int:
        start.wait()
        return login(harness, "admin", f"wrong-{i}")

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(guess, range(40)))
    assert codes.count(401) <= 10
    assert codes.count(401) + codes.count(429) == 40


def test_another_accounts_login_does_not_reset_the_count(harness):
    add_user(harness, "bob", "Bob-pass-1")
    for i in range(9):
        assert login(harness, "admin", f"wrong-{i}") == 401
    assert login(harness, "bob", "Bob-pass-1") == 200
    assert login(harness, "admin", "wrong-9") == 401
    assert login(harness, "admin", "wrong-10") == 429


def test_the_limit_holds_per_target_user_across_addresses(harness):
    for i in range(10):
        assert login(harness, "admin", "wrong", address=f"10.0.0.{i + 1}") == 401
    assert login(harness, "admin", harness.admin_password, address="10.0.1.1") == 429
    assert login(harness, "nobody", "x", address="10.0.1.1") == 401  # the address is fine


def test_own_success_clears_own_failures(harness):
    for i in range(9):
        assert login(harness, "admin", f"wrong-{i}") == 401
    assert login(harness, "admin", harness.admin_password) == 200
    for i in range(10):
        assert login(harness, "admin", f"wrong-{i}") == 401


def test_counts_are_shared_through_the_file_by_every_worker(tmp_path):
    path = str(tmp_path / "login-failures.json")
    one, two = LoginLimiter(path, max_failures=3), LoginLimiter(path, max_failures=3)
    assert one.begin("a", "u") and two.begin("a", "u") and one.begin("a", "u")
    assert not two.begin("a", "u")
    assert (tmp_path / "login-failures.json").stat().st_mode & 0o777 == 0o600
