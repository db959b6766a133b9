# Reliable, in-order delivery over the serial line for either end (no I/O): sequence numbers, ACK/NAK, retransmit.
from __future__ import annotations

import logging
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_bridge import protocol as p
from firmware_bridge.errors import ProtocolError

log = logging.getLogger(__name__)

RTO_MIN, RTO_MAX, RTO_START = 0.025, 5.0, 0.25
QUEUE_LIMIT = 64


@dataclass
class Counters:
    sent: int = 0
    received: int = 0
    retransmits: int = 0
    duplicates: int = 0
    naks: int = 0
    bad_messages: int = 0
    dropped: int = 0
    resets: int = 0


@dataclass
class _InFlight:
    seq: int
    payload: bytes
    sent_at: float
    tries: int = 1


@dataclass
class Session:
    """One end of the link. One data block is in flight at a time (the traffic is a few keys and display updates a
    minute); it is resent after the retransmit timeout, which adapts to the measured round trip (25 ms to 5 s) and
    doubles on each loss. Received data is delivered once and in order; a repeat is acknowledged again, not delivered.
    A RESET block sets both sequence counters back to 0: the host sends one after opening the port, the device sends
    one when it boots and answers the host's; the host sends no data until that answer came (asking again each
    second), so nothing it sends can be mistaken for a block from before the reset. The host's RESET carries a
    token (two bytes, never 0) that the device's answer echoes; a device's own RESET at boot carries 0. So the host
    tells its answer from a reboot, and a late or repeated answer from a reboot: only the answer to its latest RESET
    syncs it, and once synced it ignores answers (a late one must not set the counters back under data already
    exchanged: the next block would pass for a repeat and be acknowledged without being delivered)."""

    clock: Callable[[], float]
    device_side: bool = False
    on_reset: Callable[[], None] | None = None
    counters: Counters = field(default_factory=Counters)
    decoder: p.Decoder = field(default_factory=p.Decoder)
    rto: float = RTO_START
    _srtt: float | None = None
    _rttvar: float = 0.0
    _tx_seq: int = 0
    _rx_expected: int = 0
    _queue: deque[p.Msg] = field(default_factory=deque)
    _inflight: _InFlight | None = None
    _out: bytearray = field(default_factory=bytearray)
    heard_at: float = 0.0
    _synced: bool = True
    _reset_at: float = 0.0
    _token: int = 0  # the host's latest RESET token (1..65535); the device's boot RESET says 0
    _last_token: int = field(default_factory=lambda: secrets.randbelow(65535))  # tokens go on from a random one

    # -- sending -------------------------------------------------------------------------------------------
    def queue(self, msg: p.Msg) -> None:
        if 2 + len(msg.args) > p.MAX_PAYLOAD:
            raise ProtocolError(f"{msg.name} with {len(msg.args)} bytes of arguments does not fit in a block")
        if len(self._queue) >= QUEUE_LIMIT:
            self._queue.popleft()
            self.counters.dropped += 1
        self._queue.append(msg)

    @property
    def busy(self) -> bool:
        return self._inflight is not None or bool(self._queue)

    @property
    def synced(self) -> bool:
        return self._synced

    def reset(self) -> None:
        """Starts both counters again and tells the other end to do the same (the device at boot: token 0)."""
        self._restart()
        self._synced = self.device_side
        self._reset_at = self.clock()
        self._token = 0 if self.device_side else self._new_token()
        self._out += p.reset(self._token)

    def poll(self) -> bytes:
        """Bytes to write now: acknowledgements, a retransmit whose timeout ran out, or the next queued block."""
        now = self.clock()
        flight = self._inflight
        if not self._synced:
            if now - self._reset_at >= 1.0:  # no answer yet: ask again, with a new token
                self._reset_at = now
                self._token = self._new_token()
                self._out += p.reset(self._token)
        elif flight is not None and now - flight.sent_at >= self.rto:
            flight.tries += 1
            flight.sent_at = now
            self.counters.retransmits += 1
            self.rto = min(self.rto * 2, RTO_MAX)
            self._out += p.Block(p.DATA, flight.seq, flight.payload).encode()
        elif flight is None and self._queue:
            batch: list[p.Msg] = []
            size = 0
            while self._queue and size + 2 + len(self._queue[0].args) <= p.MAX_PAYLOAD:
                size += 2 + len(self._queue[0].args)
                batch.append(self._queue.popleft())
            payload = p.pack(batch)
            self._inflight = _InFlight(self._tx_seq, payload, now)
            self.counters.sent += 1
            self._out += p.Block(p.DATA, self._tx_seq, payload).encode()
        out, self._out = bytes(self._out), bytearray()
        return out

    # -- receiving -----------------------------------------------------------------------------------------
    def receive(self, data: bytes) -> list[p.Msg]:
        """Feeds bytes from the line; returns the messages delivered, in order, each once."""
        return [m for block in self.decoder.feed(data) for m in self._block(block)]

    def line_idle(self) -> list[p.Msg]:
        return [m for block in self.decoder.idle() for m in self._block(block)]

    def _block(self, block: p.Block) -> list[p.Msg]:
        self.heard_at = self.clock()
        if block.kind == p.RESET:
            return self._reset_block(p.reset_token(block))
        if block.kind == p.ACK:
            self._acked(block.seq)
            return []
        if block.kind == p.NAK:
            self.counters.naks += 1
            if self._inflight is not None and self._inflight.seq == block.seq:
                self._inflight.sent_at = -1e9  # resend at the next poll
            return []
        return self._data(block)

    def _new_token(self) -> int:
        self._last_token = self._last_token % 65535 + 1
        return self._last_token

    def _reset_block(self, token: int) -> list[p.Msg]:
        self.counters.resets += 1
        if self.device_side:  # the host (re)starts the link: start over and answer with its token
            self._restart()
            self._out += p.reset(token)
        elif token != 0 and token == self._token:
            if not self._synced:  # the answer to our latest RESET: both ends start from 0 now
                self._restart()
                self._synced = True
            return []  # (a repeat of that answer once synced changes nothing)
        elif token == 0:  # the device rebooted: start the link over
            self.reset()
        else:
            return []  # a late answer to an earlier RESET
        if self.on_reset is not None:
            self.on_reset()
        return []

    def _data(self, block: p.Block) -> list[p.Msg]:
        if block.seq != self._rx_expected:
            if block.seq == (self._rx_expected - 1) % p.SEQ_MOD:
                self.counters.duplicates += 1
                self._out += p.Block(p.ACK, self._rx_expected).encode()
            else:
                self._out += p.Block(p.NAK, self._rx_expected).encode()
            return []
        self._rx_expected = (self._rx_expected + 1) % p.SEQ_MOD
        self._out += p.Block(p.ACK, self._rx_expected).encode()
        self.counters.received += 1
        try:
            return p.unpack(block.payload)
        except ProtocolError as exc:
            self.counters.bad_messages += 1
            log.warning("bridge: dropped a block with bad messages: %s", exc)
            return []

    def _acked(self, next_seq: int) -> None:
        flight = self._inflight
        if flight is None or next_seq != (flight.seq + 1) % p.SEQ_MOD:
            return
        if flight.tries == 1:  # Karn: a retransmitted block gives no clean round-trip sample
            self._sample(self.clock() - flight.sent_at)
        else:
            self.rto = max(RTO_MIN, min(RTO_MAX, (self._srtt or RTO_START) * 2))
        self._inflight = None
        self._tx_seq = next_seq

    def _sample(self, rtt: float) -> None:
        if self._srtt is None:
            self._srtt, self._rttvar = rtt, rtt / 2
        else:
            self._rttvar = 0.75 * self._rttvar + 0.25 * abs(self._srtt - rtt)
            self._srtt = 0.875 * self._srtt + 0.125 * rtt
        self.rto = max(RTO_MIN, min(RTO_MAX, self._srtt + 4 * self._rttvar))

    def _restart(self) -> None:
        if self._inflight is not None:  # the other end may never have seen it: send it again under the new count
            self._queue.extendleft(reversed(p.unpack(self._inflight.payload)))
        self._inflight = None
        self._tx_seq = self._rx_expected = 0
        self._out.clear()

    def health(self) -> dict[str, object]:
        return {**self.counters.__dict__, "line_errors": dict(self.decoder.errors), "rto_ms": round(self.rto * 1000),
                "srtt_ms": None if self._srtt is None else round(self._srtt * 1000, 1)}
