# Modbus RTU, only what number boards need: write one holding register (function 6), bytes only, no I/O.
from __future__ import annotations

from firmware_bridge.errors import ProtocolError

WRITE_REGISTER = 0x06
EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value", 4: "device failure",
              6: "device busy"}


def crc(data: bytes) -> int:
    """CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF; sent low byte first."""
    value = 0xFFFF
    for byte in data:
        value ^= byte
        for _ in range(8):
            value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


def frame(body: bytes) -> bytes:
    return body + crc(body).to_bytes(2, "little")


def write_register(unit: int, register: int, value: int) -> bytes:
    """The request frame; the board answers with the same eight bytes."""
    if not 1 <= unit <= 247:
        raise ProtocolError(f"Modbus unit {unit} is outside 1..247")
    if not 0 <= register <= 0xFFFF or not 0 <= value <= 0xFFFF:
        raise ProtocolError(f"register {register} or value {value} does not fit in 16 bits")
    return frame(bytes((unit, WRITE_REGISTER)) + register.to_bytes(2, "big") + value.to_bytes(2, "big"))


def check_reply(request: bytes, reply: bytes) -> None:
    """Raises ProtocolError saying what is wrong with the board's answer to `request`."""
    if len(reply) == 5 and reply[1] == request[1] | 0x80 and crc(reply[:3]).to_bytes(2, "little") == reply[3:]:
        raise ProtocolError(f"the board refused: {EXCEPTIONS.get(reply[2], f'exception {reply[2]}')}")
    if len(reply) < len(request):
        raise ProtocolError(f"no complete answer ({len(reply)} of {len(request)} bytes)")
    if crc(reply[:-2]).to_bytes(2, "little") != reply[-2:]:
        raise ProtocolError("the answer's CRC is wrong (noise on the RS-485 line?)")
    if reply != request:
        raise ProtocolError(f"unexpected answer {reply.hex()} to {request.hex()}")


def parse_request(data: bytes) -> tuple[int, int, int, int]:
    """(unit, function, register, value) of a request frame, for the simulated board."""
    if len(data) != 8 or crc(data[:-2]).to_bytes(2, "little") != data[-2:]:
        raise ProtocolError("not a whole Modbus RTU request with a good CRC")
    return data[0], data[1], int.from_bytes(data[2:4], "big"), int.from_bytes(data[4:6], "big")
