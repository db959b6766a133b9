# The C firmware core: built with the system compiler, held to the Python codec's bytes, fuzzed, run end to end.
from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.broker import Broker
from devkit.c_unit import VECTORS, CDecoder, CUnit, NoisyRelay, blocks_text, build, python_decode
from devkit.configs import write_bridge_config
from firmware_bridge import protocol as p
from firmware_bridge.config import load_bridge
from firmware_bridge.service import BridgeService
from hub.service import HubService
from tests.conftest import wait_until


@pytest.fixture(scope="session")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("firmware"))


@pytest.fixture(scope="module")
def c_decoder(program: Path) -> Iterator[CDecoder]:
    decoder = CDecoder(program)
    yield decoder
    decoder.close()


def unhex(text: str) -> bytes:
    return b"" if text == "-" else bytes.fromhex(text)


def test_both_codecs_give_the_shared_vectors(program: Path) -> None:
    checked = 0
    for line in VECTORS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        what, *rest = line.split(" ")
        if what == "crc":
            assert f"{p.crc16(unhex(rest[0])):04x}" == rest[1], line
        elif what == "block":
            assert p.Block(int(rest[0]), int(rest[1]), unhex(rest[2])).encode().hex() == rest[3], line
        else:
            assert python_decode(unhex(rest[0])) == " ".join(rest[2:]), line
        checked += 1
    done = subprocess.run([str(program), "vectors", str(VECTORS)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == f"{checked} vectors, 0 wrong", done.stdout


def blocks() -> st.SearchStrategy[bytes]:
    payload = st.one_of(st.binary(max_size=p.MAX_PAYLOAD),
                        st.sampled_from([p.pack([p.key(1)]), p.pack([p.show("A001")]), b""]))
    return st.builds(lambda k, s, pl: p.Block(k, s, pl).encode(), st.sampled_from(sorted(p.KINDS)),
                     st.integers(0, p.SEQ_MOD - 1), payload)


@st.composite
def hostile_streams(draw: st.DrawFn) -> bytes:
    """Good blocks and noise run together, then bits flipped, bytes dropped or repeated: a bad line."""
    parts = draw(st.lists(st.one_of(blocks(), st.binary(max_size=12), st.sampled_from([b"\x7e", b"\x05", b"\x40"])),
                          max_size=6))
    data = bytearray(b"".join(parts))
    for _ in range(draw(st.integers(0, 3))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "drop", "repeat"]))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "drop":
            del data[at]
        else:
            data.insert(at, data[at])
    return bytes(data)


EXAMPLES = int(os.environ.get("MOTCUA_FUZZ_EXAMPLES", "2000"))  # bench: 100000 (docs/reliability.md)
TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module")
def tally() -> Iterator[Counter[str]]:
    started = time.monotonic()
    yield TALLY
    if TALLY["streams"]:
        print(f"\nserial fuzz: {TALLY['streams']:,} streams, {TALLY['bytes']:,} bytes, {TALLY['accepted']:,} blocks "
              f"accepted, {TALLY['skipped']:,} rejections (noise, torn or unknown blocks), alike in both decoders, "
              f"in {time.monotonic() - started:.0f} s")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=hostile_streams())
def test_the_c_decoder_reads_a_hostile_line_exactly_as_the_python_one(c_decoder: CDecoder, tally: Counter[str],
                                                                     stream: bytes) -> None:
    """The same blocks, in the same order, from the same bytes (so the same rejections), and every block taken is
    one that was whole on the line: a corrupted block is never accepted."""
    decoder = p.Decoder()
    taken = [b for byte in stream for b in decoder.feed(bytes((byte,)))]
    assert c_decoder.decode(stream) == blocks_text(taken)
    assert all(b.encode() in stream for b in taken)
    tally.update(streams=1, bytes=len(stream), accepted=len(taken), skipped=sum(decoder.errors.values()))


# -- the C unit on a pty, through the real bridge, hub and broker -----------------------------------------------------
@pytest.fixture
def c_ward(tmp_path: Path, broker: Broker, hub: HubService, program: Path) -> Iterator[tuple[BridgeService, dict]]:
    units = {name: CUnit(program, kind, tmp_path, name, serial_no=f"C-{name}").plug()
             for name, kind in (("keys1", "counter_keypad"), ("led1", "led_display"), ("rate1", "rating_keypad"))}
    path = write_bridge_config(tmp_path, broker.port, [
        {"port": str(units["keys1"].path), "kind": "counter_keypad", "counter": 1},
        {"port": str(units["led1"].path), "kind": "led_display", "counter": 1},
        {"port": str(units["rate1"].path), "kind": "rating_keypad", "counter": 1, "hold_off_s": 0.2}])
    service = BridgeService(*load_bridge(str(path)))
    service.start()
    try:
        wait_until(lambda: all(u.state == "ready" for u in service.units), timeout=10, what="every C unit ready")
        yield service, units
    finally:
        service.stop()
        for unit in units.values():
            unit.close()


def test_a_c_keypad_calls_the_c_display_shows_and_a_c_rating_is_stored(c_ward: tuple, hub: HubService) -> None:
    service, units = c_ward
    keys, led, rate = units["keys1"], units["led1"], units["rate1"]
    keys.press(2)  # recall, with nobody called: the hub refuses, and the keypad says so
    wait_until(lambda: keys.feedback[-1:] == ["refused"], what="the refusal on the C keypad")
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
    label = hub.db.execute("SELECT label FROM tickets").fetchone()[0]
    for code in (7, 1, 3, 4):  # open, call next, start, done
        n = len(keys.feedback)
        keys.press(code)
        wait_until(lambda n=n: len(keys.feedback) > n, what=f"the hub's answer to key {code}")
        assert keys.feedback[-1] == "ok", (code, keys.feedback)
    wait_until(lambda: label in led.shown, what="the number on the C display")
    time.sleep(0.25)  # past the rating keypad's hold-off
    rate.press(3)
    wait_until(lambda: rate.feedback[-1:] == ["ok"], what="the rating's ok on the C keypad")
    assert hub.db.execute("SELECT counter, level FROM ratings").fetchall() == [(1, 3)]
    identity = {u.status()["device"]["serial"] for u in service.units}
    assert identity == {"C-keys1", "C-led1", "C-rate1"}


def test_a_c_keypad_transfers_and_shows_why_the_hub_says_no(c_ward: tuple, hub: HubService) -> None:
    service, units = c_ward
    keys = units["keys1"]
    wait_until(lambda: service.units[0].services[:2] == ["HT", "CT"], what="the keypad to learn the services")

    def press(*codes: int) -> None:
        for code in codes:
            n = len(keys.feedback)
            keys.press(code)
            if code != 9:  # the transfer key only asks which service
                wait_until(lambda n=n: len(keys.feedback) > n, what=f"the answer to key {code}")
            time.sleep(0.05)

    press(7, 1)  # open, call next: nobody is waiting
    assert keys.feedback[-1] == "refused"
    wait_until(lambda: keys.shown[-1:] == ["0 CHO"], what="'nobody waiting' on the keypad")
    wait_until(lambda: keys.shown[-1:] == [""], timeout=5, what="the display back after 3 s")
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
    press(1)
    for _ in range(3):
        time.sleep(1.05)  # the keypad lets the same key through once a second
        press(2)  # recall
    time.sleep(1.05)
    press(2)  # a fourth recall: past the ward's limit
    assert keys.feedback[-1] == "refused"
    wait_until(lambda: "HET GOI" in keys.shown, what="'recall limit' on the keypad")
    press(9, 2)  # transfer to the hub's second service, CT
    assert keys.feedback[-1] == "ok", keys.feedback
    assert "CH DV" in keys.shown
    moved = hub.db.execute("SELECT service, transferred_from, status FROM tickets").fetchall()
    assert moved == [("CT", "HT", "issued")]
    time.sleep(1.05)
    press(9, 7)  # no seventh service: refused on the keypad, nothing sent
    assert keys.feedback[-1] == "refused" and service.units[0].results[-1] == "transfer:no_such_service"
    wait_until(lambda: keys.shown[-1:] == ["0 DV"], what="'no such service' on the keypad")


def test_an_unplugged_c_unit_comes_back_on_the_same_path(c_ward: tuple, hub: HubService) -> None:
    """(How fast: `python -m bench.c_unit` times replug -> ready; docs/performance.md.)"""
    service, units = c_ward
    rate = units["rate1"]
    unit = next(u for u in service.units if u.cfg.kind == "rating_keypad")
    rate.unplug()
    wait_until(lambda: unit.link.state == "closed", what="the bridge to notice the unplug")
    rate.plug()
    wait_until(lambda: unit.state == "ready", what="the link back")
    hub.queue.handle(("kiosk-x", "b1", 1), "issue", service="HT")
    for i, action in enumerate(("open", "call_next", "done")):
        hub.queue.handle(("officer", "b1", 10 + i), action, counter=1)
    rate.press(1)
    wait_until(lambda: hub.db.execute("SELECT level FROM ratings").fetchall() == [(1,)], what="a rating after it")


def test_a_noisy_line_to_a_c_keypad_loses_no_rating_and_counts_none_twice(tmp_path: Path, broker: Broker,
                                                                        hub: HubService, program: Path) -> None:
    """Bits flipped, blocks lost and blocks doubled, each at 3 % of what crosses in either direction."""
    unit = CUnit(program, "rating_keypad", tmp_path, "rate-direct", serial_no="C-noisy").plug()
    cable = NoisyRelay(unit.path, tmp_path, "rate1", rate=0.03, seed=7).plug()
    path = write_bridge_config(tmp_path, broker.port, [{"port": str(cable.path), "kind": "rating_keypad",
                                                        "counter": 1, "hold_off_s": 0.2}])
    service = BridgeService(*load_bridge(str(path)))
    service.start()
    levels = [1, 2, 3] * 5
    try:
        wait_until(lambda: service.units[0].state == "ready", timeout=10, what="the C keypad ready through noise")
        for n, level in enumerate(levels, start=1):
            hub.queue.handle(("kiosk-x", "b1", n), "issue", service="HT")
            for i, action in enumerate(("open", "call_next", "done")):
                hub.queue.handle(("officer", "b1", n * 10 + i), action, counter=1)
            time.sleep(0.25)  # past the keypad's hold-off
            answers = len(unit.feedback)
            unit.press(level)
            wait_until(lambda a=answers: len(unit.feedback) > a, timeout=20, what=f"the answer to rating {n}")
        stats = unit.ask_stats()
    finally:
        service.stop()
        cable.close()
        unit.close()
    assert [r[0] for r in hub.db.execute("SELECT level FROM ratings ORDER BY ticket_id")] == levels
    assert sum(cable.harmed.values()) >= 3, cable.harmed  # the line really was bad
    health = service.units[0].status()
    assert stats["retransmits"] + health["retransmits"] + sum(health["line_errors"].values()) > 0, (stats, health)
