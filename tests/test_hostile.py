# Hostile input against the hub: payloads that once stopped a ward, one request's fault kept its own, and liveness.
from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bus import messages, systemd
from bus.config import BrokerSection
from bus.errors import ContractError
from bus.lifecycle import wait_for_stop
from bus.messages import Message
from devkit import samples
from devkit.broker import Broker
from devkit.hostile import classics, raw_client
from hub.config import load_hub
from hub.service import HubService
from provisioning.fleet import wait_online
from tests.conftest import WARD, wait_until


@pytest.mark.parametrize("name", list(classics()))
def test_every_classic_attack_is_a_contract_error(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ContractError) as info:
        messages.decode(classics()[name])
    assert info.value.field and info.value.expected
    assert time.perf_counter() - started < 1.0  # bounded: no payload costs the network thread more than an instant


_TEXT = st.text(alphabet='[]{}"\\\\uab ', max_size=6)
_VALUES = st.recursive(st.none() | st.integers() | _TEXT,
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
                       max_leaves=40)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(_VALUES, st.booleans())
def test_nesting_is_counted_outside_strings(value: object, ascii_only: bool) -> None:
    assert messages.nesting(json.dumps(value, ensure_ascii=ascii_only).encode()) == _depth(value)


def _nesting_by_splitting(payload: bytes) -> int:
    """The nesting count as first written, on the whole text: what the faster one must always agree with."""
    text = payload.replace(b"\\\\", b"").replace(b'\\"', b"")
    depth, depths = 0, []
    for char in b"".join(text.split(b'"')[::2]):
        if char in b"[]{}":
            depth += 1 if char in b"[{" else -1
            depths.append(depth)
    return max(depths, default=0)


@given(st.binary(max_size=40) | st.text(alphabet='[]{}"\\ a', max_size=40).map(str.encode))
def test_nesting_of_any_text_broken_or_not_is_what_splitting_on_quotes_gives(payload: bytes) -> None:
    assert messages.nesting(payload) == _nesting_by_splitting(payload)


class _Finaliser:
    """Garbage whose collection runs Python code, as paho's, sqlite3's and generators' objects do."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _frames(5)


def _frames(n: int) -> None:
    if n:
        _frames(n - 1)


def test_a_deep_payload_never_brings_the_parser_near_the_recursion_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by a CI run: a garbage collection while the parser stood ~1,000 deep ran finalizers with no stack left,
    # and they failed (RecursionError in the kiosk's network thread). Collections are placed at every depth near
    # the limit: no finalizer may fail.
    failed: list[type[BaseException]] = []
    monkeypatch.setattr("sys.unraisablehook", lambda u: failed.append(u.exc_type))
    payloads = [classics()["nested arrays"], classics()["open brackets only"], classics()["nested objects in a body"]]
    gc.freeze()  # the test process's own objects out of the way: each collection here sees only what it made
    try:
        for threshold in range(400, 1000, 3):
            for payload in payloads:
                gc.collect()
                gc.disable()
                _Finaliser()
                gc.set_threshold(threshold)
                gc.enable()
                with pytest.raises(ContractError, match="nested"):
                    messages.decode(payload)
    finally:
        gc.set_threshold(700)
        gc.enable()
        gc.unfreeze()
    assert failed == []


def test_one_nested_payload_no_longer_silences_the_hub(hub: HubService, broker: Broker, make_client) -> None:
    """The 5 KB of '[[[[' that killed paho's thread: every later request was unanswered. Now each is answered."""
    attacker = raw_client(broker.port, "attacker")
    for payload in classics().values():
        attacker.publish(hub.bus.topics.ticket_request, payload, qos=1).wait_for_publish(5)
    kiosk = make_client("kiosk-1")
    kiosk.wait_connected(5)
    answered = [kiosk.request(kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=5)
                for _ in range(20)]
    assert all(r is not None and r.type == "ticket.issued" for r in answered)
    assert [r.body["ticket"]["label"] for r in answered] == [f"A{n:03d}" for n in range(1, 21)]
    wait_until(lambda: hub.bus.rejected.total() == len(classics()), what="every attack counted")
    assert hub.bus.health() is None
    attacker.loop_stop()


def test_a_request_the_hub_fails_to_handle_is_rolled_back_alone(tmp_path: Path, hub_config: Path,
                                                                 make_client) -> None:
    """A fault inside one request of a group commit (here a real SQLite trigger refusing one ticket) costs that
    request an `internal_error` answer; the others in its batch are stored and answered."""
    kiosk = make_client("kiosk-1")
    watcher = make_client("watcher", role="cli")  # reads the kiosk's replies as they go by
    replies: dict[str, Message] = {}
    watcher.subscribe(kiosk.topics.reply("kiosk-1"), lambda m, _: replies.__setitem__(m.corr or "", m))
    kiosk.wait_connected(5)
    watcher.wait_connected(5)
    config, section = load_hub(str(hub_config))
    service = HubService(config, section)
    service.db.execute("CREATE TRIGGER refuse_pregnant BEFORE INSERT ON tickets WHEN NEW.priority = 'pregnant' "
                       "BEGIN SELECT RAISE(ABORT, 'injected fault'); END")
    topic = kiosk.topics.ticket_request
    sent = []
    for i in range(30):  # queued before the worker starts: it takes them as one batch
        body = {"service": "HT", **({"priority": "pregnant"} if i == 12 else {})}
        msg = kiosk.message("ticket.request", body, corr=f"{kiosk.boot}.{1000 + i}")
        sent.append(msg)
        service._enqueue(msg, topic)
    service.start()
    try:
        wait_until(lambda: len(replies) == 30, what="thirty answers")
        faulty = replies[sent[12].corr or ""]
        assert faulty.type == "error" and faulty.body["code"] == "internal_error"
        good = [replies[m.corr or ""] for i, m in enumerate(sent) if i != 12]
        assert all(r.type == "ticket.issued" for r in good)
        assert service.stats["failed"] == 1
        labels = [r[0] for r in service.db.execute("SELECT label FROM tickets ORDER BY id")]
        assert labels == [f"A{n:03d}" for n in range(1, 30)]  # 29 stored, none for the faulty one
    finally:
        service.stop()


@pytest.fixture
def notify_socket(tmp_path: Path):  # noqa: ANN201 - a bound datagram socket and the env that points at it
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.05)
    old = {k: os.environ.get(k) for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
    os.environ.update(NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")  # WatchdogSec=0.2: a kick every 0.1 s
    yield sock
    for k, v in old.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    sock.close()


def kicks(sock: socket.socket, watchdog: systemd.Watchdog, seconds: float) -> int:
    """Runs the service's main loop for `seconds` (as bus/lifecycle.py does) and counts what systemd received."""
    got = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watchdog.kick()
        with contextlib.suppress(TimeoutError):
            got += sock.recv(64) == b"WATCHDOG=1"
    return got


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the killed thread, on purpose
@pytest.mark.parametrize("fault", ["wedged", "killed"])
def test_a_dead_or_wedged_network_thread_stops_the_watchdog(hub_config: Path, broker: Broker,
                                                            notify_socket: socket.socket, fault: str) -> None:
    config, section = load_hub(str(hub_config))
    service = HubService(config, section)
    service.bus.liveness.probe_every, service.bus.liveness.lost_after = 0.2, 1.0
    service.start()
    release = threading.Event()
    try:
        wait_online(BrokerSection(port=broker.port), WARD, "hub", timeout=10)
        watchdog = systemd.Watchdog(service.health)
        assert kicks(notify_socket, watchdog, 1.5) >= 5  # healthy: kicked about every 0.1 s

        def stuck(msg: Message, topic: str) -> None:
            if fault == "wedged":
                release.wait(30)  # a handler that never returns holds the only thread that reads the socket
            else:
                raise SystemExit  # escapes every `except Exception`: the thread that reads the socket ends
        service.bus.subscribe(service.bus.topics.ticket_event, stuck)
        service.bus.send(service.bus.topics.ticket_event, "ticket.event", samples.call("A001", 1))
        wait_until(lambda: service.health() is not None, timeout=10, what="the hub to notice")
        # the hub's network loop is run by its worker (bus/own_loop.py): killed, it is the worker that has stopped
        assert ("probe has not come back" if fault == "wedged" else "worker thread has stopped") in service.health()
        kicks(notify_socket, watchdog, 0.3)  # a kick may have been in flight
        assert kicks(notify_socket, watchdog, 1.0) == 0
        assert watchdog.problem is not None
    finally:
        release.set()
        service.stop()


def test_a_started_service_leaves_what_it_holds_out_of_the_collectors_full_passes() -> None:
    """wait_for_stop (bus/lifecycle.py), where every role waits once started, freezes what exists then: a full
    collection no longer walks the modules, config and caches the service holds for its whole life."""
    gc.unfreeze()
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM))
    try:
        timer.start()
        wait_for_stop(tick=0.05)  # returns at the SIGTERM, as a service stops
        frozen = gc.get_freeze_count()
    finally:
        timer.cancel()
        gc.unfreeze()
        for s, handler in before.items():
            signal.signal(s, handler)
    assert frozen > 10000  # the interpreter and every module this process imported
