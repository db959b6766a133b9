# Bench: the console in Chromium - a press on Next to board.state on the bus, 50 pages on live updates, its memory.
from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

from bench.figures import as_installed
from bus.client import BusClient
from bus.config import BrokerSection
from bus.estimate import quantile
from bus.messages import Message
from console.accounts import Accounts
from console.config import load_console
from devkit.broker import Broker, free_port, port_open
from devkit.configs import write_console_config, write_hub_config
from devkit.processes import RoleProcess
from provisioning.fleet import wait_online

WARD = "demo-ward"
PASSWORD = "bench-password-1"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Console: press -> board.state latency, 50 live pages, memory.")
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    as_installed()
    with tempfile.TemporaryDirectory() as tmp, Broker(Path(tmp), kind="mosquitto") as broker:
        hub = RoleProcess("hub", write_hub_config(tmp, broker.port), Path(tmp) / "hub.log").start()
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=20, alive=hub.check_alive)
        http = free_port()
        path = write_console_config(tmp, broker.port, http)
        config, section = load_console(str(path))
        accounts = Accounts(config.data_dir / section.accounts)
        accounts.add("mai", "Nguyễn Thị Mai", "officer", PASSWORD, (1,))
        accounts.close()
        console = RoleProcess("console", path, Path(tmp) / "console.log", command=("run",)).start()
        try:
            while not port_open("127.0.0.1", http):
                console.check_alive()
                time.sleep(0.05)
            url = f"http://127.0.0.1:{http}"
            run(url, broker.port, args, psutil.Process(console.proc.pid))  # type: ignore[union-attr]
        finally:
            console.stop()
            hub.stop()


async def fanout(url: str, cookies: dict[str, str], kiosk: BusClient, port: int, n: int) -> list[float]:
    """`n` live-update streams held open by plain HTTP clients; how long after a call each saw its counter change."""
    import httpx2

    officer = BusClient(BrokerSection(port=port), WARD, "bench-officer", "bridge", counters=(1,))
    officer.start()
    officer.wait_connected(10)
    ready, arrivals = asyncio.Event(), []
    opened = [0]

    async def listen() -> None:
        async with httpx2.AsyncClient(base_url=url, cookies=cookies, timeout=None) as client, \
                client.stream("GET", "/events?kinds=counter") as stream:
            async for line in stream.aiter_lines():
                if '"hello"' in line:
                    opened[0] += 1
                    if opened[0] == n:
                        ready.set()
                elif '"kind": "counter"' in line and started:
                    arrivals.append(1000 * (time.perf_counter() - started[0]))
                    return

    started: list[float] = []
    tasks = [asyncio.create_task(listen()) for _ in range(n)]
    await asyncio.wait_for(ready.wait(), 30)
    await asyncio.sleep(0.5)
    started.append(time.perf_counter())
    await asyncio.to_thread(officer.request, officer.topics.counter_command(1), "counter.command",
                            {"action": "call_next", "counter": 1}, 5)
    await asyncio.wait(tasks, timeout=10)
    officer.stop()
    return sorted(arrivals)


def run(url: str, port: int, args: argparse.Namespace, proc: psutil.Process) -> None:
    watcher = BusClient(BrokerSection(port=port), WARD, "bench-watch", "display")
    arrived: list[tuple[float, Message]] = []
    got = threading.Event()
    watcher.subscribe(watcher.topics.board_state,
                      lambda m, _: (arrived.append((time.perf_counter(), m)), got.set()))
    kiosk = BusClient(BrokerSection(port=port), WARD, "bench-kiosk", "kiosk")
    for c in (watcher, kiosk):
        c.start()
        c.wait_connected(10)
    for _ in range(args.presses + 5):
        kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
    idle_rss = proc.memory_info().rss / 2**20
    print(f"console bench on {platform.node()} ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}, Debian Chromium; console RSS idle {idle_rss:.1f} MB")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto(f"{url}/login")
        page.fill("input[name=account]", "mai")
        page.fill("input[name=password]", PASSWORD)
        page.click("button.primary")
        page.goto(f"{url}/counter/1")
        page.wait_for_selector("#waiting li")
        latencies = []
        for i in range(args.presses):
            expect(page.locator("button[data-action=call_next]")).to_be_enabled()
            got.clear()
            arrived.clear()
            label = f"A{i + 1:03d}"
            started = time.perf_counter()
            page.click("button[data-action=call_next]")
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                got.wait(0.5)
                hit = [t for t, m in arrived if any((c.get("ticket") or {}).get("label") == label
                                                    for c in m.body["counters"])]
                if hit:
                    latencies.append(1000 * (hit[0] - started))
                    break
                got.clear()
        latencies.sort()
        print(f"press Next in the browser -> board.state on the bus: {len(latencies)} presses, "
              f"p50 {statistics.median(latencies):.1f} ms, p95 {quantile(latencies, 0.95):.1f} ms (target 100)")
        # each in a context of its own, as 50 PCs and phones would be: one browser opens only six connections to a
        # site, and every page keeps one open for its live updates
        cookies = context.cookies()
        pages = []
        for _ in range(args.pages):
            own = browser.new_context(viewport={"width": 1366, "height": 768})
            own.add_cookies(cookies)
            pages.append(own.new_page())
            pages[-1].goto(f"{url}/counter/1")
        time.sleep(1.0)
        rss = proc.memory_info().rss / 2**20
        expect(page.locator("button[data-action=call_next]")).to_be_enabled()
        before = pages[-1].locator("#label").inner_text()
        for other in pages:  # each page notes, by the machine's clock, when its number changed
            other.evaluate("""() => { window.changed = 0; new MutationObserver(() => { window.changed ||= Date.now(); })
                .observe(document.querySelector('#label'), {childList: true, characterData: true, subtree: true}); }""")
        started = time.time() * 1000
        page.click("button[data-action=call_next]")
        for other in pages:
            expect(other.locator("#label")).not_to_have_text(before)
        delays = sorted(other.evaluate("() => window.changed") - started for other in pages)
        print(f"{args.pages} counter pages open on live updates (each its own Chromium renderer, all on this machine): "
              f"console RSS {rss:.1f} MB (target 50); a press reached them in p50 {statistics.median(delays):.0f} ms, "
              f"p95 {quantile(delays, 0.95):.0f} ms, slowest {delays[-1]:.0f} ms")
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        browser.close()
    delays = asyncio.run(fanout(url, cookies, kiosk, port, args.pages))
    print(f"{args.pages} live streams without browsers (the console's own share): a call reached them in "
          f"p50 {statistics.median(delays):.1f} ms, slowest {delays[-1]:.1f} ms")
    for c in (watcher, kiosk):
        c.stop()


if __name__ == "__main__":
    main()
