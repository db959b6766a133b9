# The bridge protocol without a port: framing against noise, CRC, and two sessions over a lossy line.
from __future__ import annotations

import random

import pytest

from firmware_bridge import protocol as p
from firmware_bridge.errors import ProtocolError
from firmware_bridge.session import RTO_MAX, RTO_MIN, Session
from tests.conftest import ManualClock


def test_crc_is_ccitt_false() -> None:
    assert p.crc16(b"123456789") == 0x29B1  # the published check value of CRC-16/CCITT-FALSE


def test_block_layout_matches_the_doc() -> None:
    raw = p.Block(p.DATA, 5, p.pack([p.key(2)])).encode()
    assert raw[0] == len(raw) == 8 and raw[1] == 0x15 and raw[-1] == p.SYNC
    assert raw[2:5] == bytes((p.KEY, 1, 2)) and int.from_bytes(raw[5:7], "big") == p.crc16(raw[:5])


def test_decoder_finds_blocks_among_noise_and_counts_what_it_skipped() -> None:
    good = [p.Block(p.DATA, i, p.pack([p.key(i)])).encode() for i in range(3)]
    corrupt = bytearray(good[1])
    corrupt[3] ^= 0x40
    stream = b"\x00\xff junk" + good[0] + bytes(corrupt) + b"\x7e\x7e" + good[2]
    decoder = p.Decoder()
    blocks = list(decoder.feed(stream))
    assert [b.seq for b in blocks] == [0, 2]
    assert decoder.errors["crc"] >= 1 and decoder.errors["length"] >= 1 and not decoder.buffer


def test_decoder_reassembles_blocks_split_anywhere() -> None:
    raw = b"".join(p.Block(p.DATA, i, p.pack([p.show(f"A{i:03}")])).encode() for i in range(10))
    decoder, got = p.Decoder(), []
    rng = random.Random(7)
    at = 0
    while at < len(raw):
        step = rng.randint(1, 9)
        got += decoder.feed(raw[at: at + step])
        at += step
    assert [p.unpack(b.payload)[0].args.decode() for b in got] == [f"A{i:03}" for i in range(10)]


def test_a_torn_head_is_dropped_when_the_line_goes_quiet() -> None:
    decoder = p.Decoder()
    good = p.Block(p.ACK, 3).encode()
    assert list(decoder.feed(b"\x30\x01\x02")) == []  # a block of 48 bytes began and never finished
    assert list(decoder.idle()) == [] and not decoder.buffer
    assert decoder.errors["torn"] == 1 and decoder.errors["length"] == 2  # head, then 2 stray bytes
    assert list(decoder.feed(good)) == [p.Block(p.ACK, 3)]


@pytest.mark.parametrize(("make", "problem"), [
    (lambda: p.Block(9, 0).encode(), "kind"),
    (lambda: p.Block(p.DATA, 16).encode(), "sequence"),
    (lambda: p.Block(p.DATA, 0, bytes(60)).encode(), "payload"),
    (lambda: p.unpack(bytes((p.KEY, 4, 1))), "runs past"),
    (lambda: p.parse_identity(p.Msg(p.IDENTITY, bytes((9, 1, 0, 3)))), "device kind"),
    (lambda: p.parse_key(p.Msg(p.KEY, b"")), "expected 1"),
])
def test_bad_blocks_and_messages_are_refused_with_the_reason(make, problem: str) -> None:  # noqa: ANN001
    with pytest.raises(ProtocolError, match=problem):
        make()


def test_show_text_fits_a_segment_display() -> None:
    assert p.show("a012").args == b"A012"
    assert p.show("Số 12345678").args == b"S- 12345"


class Line:
    """Two sessions joined by a line that loses and corrupts bytes on purpose (the test's own wire)."""

    def __init__(self, clock: ManualClock, loss: float, seed: int = 1) -> None:
        self.clock, self.loss, self.rng = clock, loss, random.Random(seed)
        self.host = Session(clock)
        self.device = Session(clock, device_side=True)
        self.got_host: list[p.Msg] = []
        self.got_device: list[p.Msg] = []

    def carry(self, data: bytes) -> bytes:
        if data and self.rng.random() < self.loss:
            return bytes(b ^ 0x55 for b in data) if self.rng.random() < 0.5 else b""
        return data

    def run(self, seconds: float, step: float = 0.005) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.got_device += self.device.receive(self.carry(self.host.poll()))
            self.got_device += self.device.line_idle()
            self.got_host += self.host.receive(self.carry(self.device.poll()))
            self.got_host += self.host.line_idle()
            self.clock.now += step


def test_sessions_deliver_everything_once_and_in_order_over_a_lossy_line() -> None:
    line = Line(ManualClock(), loss=0.2)
    line.host.reset()
    for i in range(40):
        line.host.queue(p.show(f"{i}"))
        line.device.queue(p.key(i % 5 + 1))
    line.run(120)
    assert [m.args.decode() for m in line.got_device] == [str(i) for i in range(40)]
    assert [m.args[0] for m in line.got_host] == [i % 5 + 1 for i in range(40)]
    assert line.host.counters.retransmits > 0 and line.device.counters.duplicates + line.host.counters.duplicates > 0


def test_retransmit_timeout_adapts_to_the_line_and_stays_in_bounds() -> None:
    line = Line(ManualClock(), loss=0.0)
    line.host.reset()
    for _ in range(30):
        line.host.queue(p.Msg(p.PING))
    line.run(2)
    assert line.host.rto == RTO_MIN  # a fast line: the floor
    line.loss = 1.0
    line.host.queue(p.Msg(p.PING))
    line.run(30)
    assert line.host.rto == RTO_MAX  # doubling on each loss stops at the ceiling


def test_device_reboot_resets_counters_and_the_host_resends_what_was_in_flight() -> None:
    line = Line(ManualClock(), loss=0.0)
    line.host.reset()
    line.host.queue(p.show("1"))
    line.run(0.5)
    line.host.queue(p.show("2"))
    line.host.poll()  # sent, and lost with the device's power
    line.device = Session(line.clock, device_side=True)
    line.device.reset()
    line.run(1)
    assert [m.args for m in line.got_device] == [b"1", b"2"]
    # the device's answer to our reset, its boot, and its answer to the reset that boot made us send
    assert line.host.counters.resets == 3


def test_the_protocol_doc_matches_the_code() -> None:
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "firmware-protocol.md").read_text(encoding="utf-8")
    documented = {int(code, 16): name for code, name in re.findall(r"^\| (0x[0-9a-f]{2}) \| (\w+) \|", doc, re.M)}
    assert documented == p.MESSAGE_NAMES
    actions = re.search(r"^\| action \| (.+) \|$", doc, re.M)
    assert actions is not None and actions.group(1).split(" | ") == list(p.COUNTER_KEYS.values())
    assert f"{p.MIN_BLOCK}–{p.MAX_BLOCK}" in doc and f"0x{p.SYNC:02X}" in doc
    assert all(f"{k} {v.replace('_', ' ')}" in doc.replace("_", " ") for k, v in p.KINDS.items())


def test_crossing_resets_never_swallow_a_message() -> None:
    """A race the bridge tests caught: the device's boot reset and the host's reset cross on the line. The host syncs
    and exchanges data; the device's late answer to the host's earlier reset must not set the host's counters back,
    or its next block passes for a repeat at the device and is acknowledged without being delivered."""
    clock = ManualClock()
    host, device = Session(clock), Session(clock, device_side=True)
    device.reset()  # boot: a reset with token 0 on its way to the host
    host.reset()  # the port opened: a reset with the host's token on its way to the device
    to_host, to_device = device.poll(), host.poll()
    assert host.receive(to_host) == []  # the boot first: the host starts over with a new token
    assert device.receive(to_device) == []  # the first reset: the device answers it (late, as it turns out)
    late_answer = device.poll()
    assert device.receive(host.poll()) == []  # the host's new reset: answered too
    assert host.receive(device.poll()) == [] and host.synced
    host.queue(p.Msg(p.IDENTIFY))
    got = device.receive(host.poll())
    assert [m.name for m in got] == ["identify"]
    host.receive(device.poll())  # the ack
    assert host.receive(late_answer) == [] and host.synced  # ignored: it would have set the host back
    host.queue(p.show("A"))
    got = device.receive(host.poll())
    assert [m.args for m in got] == [b"A"]


def test_the_c_core_uses_the_same_constants() -> None:
    """The C firmware core's header names the numbers protocol.py uses: kinds, message ids, unit kinds, limits."""
    import re
    from pathlib import Path

    header = (Path(p.__file__).parent / "firmware" / "mlink.h").read_text(encoding="utf-8")
    c = {name: int(value, 0) for name, value in re.findall(r"\b(ML_[A-Z_]+) = (0x[0-9A-Fa-f]+|\d+)", header)}
    c |= {name: int(value, 0) for name, value in re.findall(r"#define (ML_[A-Z_]+) (0x[0-9A-Fa-f]+|\d+)\b", header)}
    assert {c[f"ML_{name.upper()}"]: name for name in p.KINDS.values()} == p.KINDS
    assert {c[f"ML_{name.upper()}"]: name for name in p.MESSAGE_NAMES.values()} == p.MESSAGE_NAMES
    assert {c[f"ML_{name.upper()}"]: name for name in p.DEVICE_KINDS.values()} == p.DEVICE_KINDS
    assert {f"ML_FB_{code.upper()}": n for code, n in p.FEEDBACK_CODES.items()}.items() <= c.items()
    assert (c["ML_SYNC"], c["ML_MIN_BLOCK"], c["ML_MAX_BLOCK"], c["ML_SEQ_MOD"], c["ML_SHOW_MAX"]) == \
        (p.SYNC, p.MIN_BLOCK, p.MAX_BLOCK, p.SEQ_MOD, p.SHOW_MAX)
