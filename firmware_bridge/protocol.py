# The bridge's serial protocol, bytes only: block framing, CRC-16, sequence numbers and the message codecs (no I/O).
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from firmware_bridge.errors import ProtocolError

# Block layout (docs/firmware-protocol.md): len | kind<<4|seq | payload | crc16 (big-endian) | sync
SYNC = 0x7E
HEADER = 2
TRAILER = 3
MIN_BLOCK = HEADER + TRAILER
MAX_BLOCK = 64
MAX_PAYLOAD = MAX_BLOCK - MIN_BLOCK
SEQ_MOD = 16

DATA, ACK, NAK, RESET = 1, 2, 3, 4
KINDS = {DATA: "data", ACK: "ack", NAK: "nak", RESET: "reset"}

# Messages: id, length of the arguments, arguments. Host -> device ids are below 0x80, device -> host above.
IDENTIFY, PING, SHOW, FEEDBACK = 0x01, 0x02, 0x10, 0x11
IDENTITY, PONG, KEY, FAULT = 0x81, 0x82, 0x90, 0x91
MESSAGE_NAMES = {IDENTIFY: "identify", PING: "ping", SHOW: "show", FEEDBACK: "feedback",
                 IDENTITY: "identity", PONG: "pong", KEY: "key", FAULT: "fault"}

# Device kinds announced in the identity message, and what each one's keys mean.
DEVICE_KINDS = {1: "rating_keypad", 2: "counter_keypad", 3: "led_display"}
COUNTER_KEYS = {1: "call_next", 2: "recall", 3: "start", 4: "done", 5: "no_show", 6: "skip", 7: "open", 8: "close",
                9: "transfer"}
FEEDBACK_CODES = {"idle": 0, "ok": 1, "refused": 2, "error": 3}
SHOW_MAX = 8


def reset(token: int) -> bytes:
    """A RESET block: the host's carries its token (1..65535), a device's own at boot 0, a device's answer the
    host's token back."""
    return Block(RESET, 0, token.to_bytes(2, "big")).encode()


def reset_token(block: Block) -> int:
    """A RESET block's token; one without (an older device) counts as a device's own RESET."""
    return int.from_bytes(block.payload[:2], "big") if len(block.payload) >= 2 else 0


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final xor."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


@dataclass(frozen=True)
class Block:
    kind: int
    seq: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if self.kind not in KINDS:
            raise ProtocolError(f"block kind {self.kind} is not one of {sorted(KINDS)}")
        if not 0 <= self.seq < SEQ_MOD:
            raise ProtocolError(f"sequence {self.seq} is outside 0..{SEQ_MOD - 1}")
        if len(self.payload) > MAX_PAYLOAD:
            raise ProtocolError(f"payload of {len(self.payload)} bytes; a block carries at most {MAX_PAYLOAD}")
        head = bytes((len(self.payload) + MIN_BLOCK, self.kind << 4 | self.seq)) + self.payload
        return head + crc16(head).to_bytes(2, "big") + bytes((SYNC,))


@dataclass
class Decoder:
    """Turns a byte stream into blocks. Noise, torn blocks and bad CRCs are skipped one byte at a time until a
    block with a good length, sync byte and CRC lines up; each skip is counted by reason for the link's health."""

    buffer: bytearray = field(default_factory=bytearray)
    errors: dict[str, int] = field(default_factory=lambda: {"length": 0, "sync": 0, "crc": 0, "kind": 0, "torn": 0})

    def feed(self, data: bytes) -> Iterator[Block]:
        self.buffer += data
        while self.buffer:
            size = self.buffer[0]
            if not MIN_BLOCK <= size <= MAX_BLOCK:
                self._skip("length")
                continue
            if len(self.buffer) < size:
                later = next((i for i in range(1, len(self.buffer)) if self._check(i) is None), None)
                if later is None:
                    return
                self.errors["torn"] += 1  # a whole good block follows, so this head will never complete
                del self.buffer[:later]
                continue
            problem = self._check(0)
            if problem is not None:
                self._skip(problem)
                continue
            raw = bytes(self.buffer[:size])
            kind, seq = raw[1] >> 4, raw[1] & 0x0F
            del self.buffer[:size]
            if kind not in KINDS:
                self.errors["kind"] += 1
                continue
            yield Block(kind, seq, raw[HEADER:-TRAILER])

    def idle(self) -> Iterator[Block]:
        """The line went quiet with bytes still waiting: a block that started can no longer finish, so its head is
        noise. Skips bytes until what is left parses or is gone."""
        while self.buffer:
            self._skip("torn")
            yield from self.feed(b"")

    def _check(self, at: int) -> str | None:
        """Why the bytes at `at` are not one whole good block, or None if they are."""
        size = self.buffer[at]
        if not MIN_BLOCK <= size <= MAX_BLOCK:
            return "length"
        if len(self.buffer) - at < size:
            return "short"
        if self.buffer[at + size - 1] != SYNC:
            return "sync"
        head = bytes(self.buffer[at: at + size - TRAILER])
        if crc16(head) != int.from_bytes(self.buffer[at + size - 3: at + size - 1], "big"):
            return "crc"
        return None

    def _skip(self, reason: str) -> None:
        self.errors[reason] += 1
        del self.buffer[:1]


@dataclass(frozen=True)
class Msg:
    """One protocol message: its id and argument bytes."""

    id: int
    args: bytes = b""

    @property
    def name(self) -> str:
        return MESSAGE_NAMES.get(self.id, f"0x{self.id:02x}")


def pack(messages: list[Msg]) -> bytes:
    out = b"".join(bytes((m.id, len(m.args))) + m.args for m in messages)
    if len(out) > MAX_PAYLOAD:
        raise ProtocolError(f"{len(out)} bytes of messages; a block carries at most {MAX_PAYLOAD}")
    return out


def unpack(payload: bytes) -> list[Msg]:
    out, at = [], 0
    while at < len(payload):
        if at + 2 > len(payload) or at + 2 + payload[at + 1] > len(payload):
            raise ProtocolError(f"message at byte {at} runs past the end of the block")
        size = payload[at + 1]
        out.append(Msg(payload[at], payload[at + 2: at + 2 + size]))
        at += 2 + size
    return out


@dataclass(frozen=True)
class Identity:
    kind: str
    firmware: str
    keys: int
    serial: str


def identity(kind: str, firmware: tuple[int, int], keys: int, serial: str) -> Msg:
    code = {v: k for k, v in DEVICE_KINDS.items()}[kind]
    return Msg(IDENTITY, bytes((code, firmware[0], firmware[1], keys)) + serial.encode("ascii")[:16])


def parse_identity(msg: Msg) -> Identity:
    if len(msg.args) < 4:
        raise ProtocolError(f"identity of {len(msg.args)} bytes; expected at least 4")
    kind = DEVICE_KINDS.get(msg.args[0])
    if kind is None:
        raise ProtocolError(f"identity names device kind {msg.args[0]}; known: {DEVICE_KINDS}")
    serial = msg.args[4:].decode("ascii", errors="replace")
    return Identity(kind, f"{msg.args[1]}.{msg.args[2]}", msg.args[3], serial)


def show(text: str) -> Msg:
    """A display's text: digits, capital letters, space and '-' fit a 7- or 14-segment display."""
    clean = "".join(c if c.isascii() and (c.isalnum() or c in " -") else "-" for c in text.upper())[:SHOW_MAX]
    return Msg(SHOW, clean.encode("ascii"))


def feedback(code: str) -> Msg:
    return Msg(FEEDBACK, bytes((FEEDBACK_CODES[code],)))


def key(code: int) -> Msg:
    return Msg(KEY, bytes((code,)))


def parse_key(msg: Msg) -> int:
    if len(msg.args) != 1:
        raise ProtocolError(f"key message of {len(msg.args)} bytes; expected 1")
    return msg.args[0]
