# The console's process under a burst of sign-ins: password hashing costs bounded memory and gives it back.
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import psutil

from tests.conftest import OFFICERS, PASSWORD

MIB = 2**20
HASH_MIB = 19  # console/accounts.py: argon2id's memory per password checked


def _console_process(url: str) -> psutil.Process:
    port = int(url.rsplit(":", 1)[1])
    for child in psutil.Process().children(recursive=True):
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in child.net_connections("tcp")):
            return child
    raise AssertionError(f"no process of this test listens on {port}")


def _memory(process: psutil.Process) -> tuple[float, float]:
    """(resident now, resident at its highest so far) in MiB, from the kernel's own account."""
    status = Path(f"/proc/{process.pid}/status").read_text()
    kib = {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}
    return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024


def _sign_in(url: str, name: str) -> int:
    with httpx.Client(base_url=url, headers={"accept": "text/html"}) as c:
        page = c.get("/login")
        token = re.search(r'name="csrf" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return c.post("/login", data={"account": name, "password": PASSWORD, "csrftoken": token}).status_code


def test_a_burst_of_sign_ins_hashes_two_at_a_time_and_keeps_no_memory(console_url: str) -> None:
    process = _console_process(console_url)
    names = [name for name, *_ in OFFICERS] * 4
    assert _sign_in(console_url, names[0]) == 303  # the first page and sign-in warm the process up
    before, peak_before = _memory(process)
    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(lambda n: _sign_in(console_url, n), names))
    assert answers == [303] * len(names)  # every one signed in
    after, peak = _memory(process)
    assert peak < max(peak_before, before) + 2.5 * HASH_MIB, (before, peak_before, peak)  # two hashes at a time
    assert after < before + HASH_MIB / 2, (before, after)  # and their memory given back, in every thread
