# The C firmware core built for this PC: a unit on a pseudo-terminal, its codec for vectors and fuzzing, a bad cable.
from __future__ import annotations

import os
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

from devkit.errors import DevkitError
from firmware_bridge import protocol as p
from firmware_bridge.fake_line import FakeLine

FIRMWARE = Path(__file__).resolve().parent.parent / "firmware_bridge" / "firmware"
VECTORS = FIRMWARE / "vectors.txt"
CFLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic")


def build(out: str | Path) -> Path:
    """Compiles the firmware core and its host program with the system C compiler; returns the program."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise DevkitError("no C compiler (cc): apt-get install gcc (./run test installs it)")
    program = Path(out) / "mlink-unit"
    done = subprocess.run([cc, *CFLAGS, f"-I{FIRMWARE}", str(FIRMWARE / "host" / "mlink_unit.c"),
                           str(FIRMWARE / "mlink.c"), "-o", str(program)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise DevkitError(f"building the firmware core failed:\n{done.stderr}")
    return program


def blocks_text(blocks: list[p.Block]) -> str:
    """Blocks as the host program prints them: "kind:seq:payload-hex ..." ("-" for none or an empty payload)."""
    return " ".join(f"{b.kind}:{b.seq}:{b.payload.hex() or '-'}" for b in blocks) or "-"


def python_decode(data: bytes) -> str:
    """The Python decoder fed one byte at a time, as a device's serial interrupt feeds the C one."""
    decoder, found = p.Decoder(), []
    for byte in data:
        found += list(decoder.feed(bytes((byte,))))
    return blocks_text(found)


class CDecoder:
    """The C decoder in a long-running host program: one stream in, its blocks out."""

    def __init__(self, program: Path) -> None:
        self.proc = subprocess.Popen([str(program), "decode"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def decode(self, data: bytes) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((data.hex() or "-") + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().rstrip("\n")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(5)


class CUnit:
    """A counter unit running the C firmware core on a pseudo-terminal behind `path`, like FakeMcu: `press`,
    and what it was told to `shown` and `feedback`. `unplug()` ends the program (the cable pulled), `plug()` starts
    it again (power back): the same path, a new line behind it."""

    def __init__(self, program: Path, kind: str, folder: str | Path, name: str, serial_no: str = "C0000001",
                 keys: int = 8) -> None:
        self.program, self.kind, self.serial_no, self.keys = program, kind, serial_no, keys
        self.path = Path(folder) / name
        self.shown: list[str] = []
        self.feedback: list[str] = []
        self.stats: dict[str, int] = {}
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def plug(self) -> CUnit:
        self.unplug()
        self.proc = subprocess.Popen([str(self.program), "run", self.kind, self.serial_no, str(self.path),
                                      str(self.keys)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if not first.startswith("ready "):
            raise DevkitError(f"the C unit did not start: {first!r}")
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            what, _, rest = line.rstrip("\n").partition(" ")
            if what == "show":
                self.shown.append(rest)
            elif what == "feedback":
                self.feedback.append(rest)
            elif what == "stats":
                self.stats = {k: int(v) for k, v in (kv.split("=") for kv in rest.split())}

    def _say(self, line: str) -> None:
        if self.proc is None or self.proc.stdin is None:
            raise DevkitError("the C unit is unplugged")
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def press(self, key: int) -> None:
        self._say(f"key {key}")

    def ask_stats(self) -> dict[str, int]:
        self.stats = {}
        self._say("stats")
        deadline = time.monotonic() + 5
        while not self.stats and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.stats

    def unplug(self) -> None:
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(5)
        if self._reader is not None:
            self._reader.join(5)
        self.proc = None

    close = unplug


class NoisyRelay(FakeLine):
    """A bad cable between the bridge and a unit: the bridge opens `path`, the relay opens the unit's port, and
    each chunk crossing in either direction is, at rate `rate` each, corrupted (one bit flipped), lost or sent
    twice. Seeded, so a failure can be replayed."""

    def __init__(self, unit_path: Path, folder: str | Path, name: str, rate: float = 0.03, seed: int = 1) -> None:
        super().__init__(folder, name)
        self.unit_path, self.rate, self.random = unit_path, rate, random.Random(seed)
        self.harmed = {"flipped": 0, "lost": 0, "doubled": 0}
        self._unit = -1

    def booted(self) -> None:
        if self._unit < 0:
            self._unit = os.open(self.unit_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)

    def _harm(self, data: bytes) -> bytes:
        roll = self.random.random()
        if roll < self.rate:
            self.harmed["flipped"] += 1
            at = self.random.randrange(len(data))
            return data[:at] + bytes((data[at] ^ 1 << self.random.randrange(8),)) + data[at + 1:]
        if roll < 2 * self.rate:
            self.harmed["lost"] += 1
            return b""
        if roll < 3 * self.rate:
            self.harmed["doubled"] += 1
            return data + data
        return data

    def exchange(self, data: bytes) -> bytes:  # from the bridge, on to the unit
        os.write(self._unit, self._harm(data))
        return b""

    def idle(self) -> bytes:  # from the unit, on to the bridge
        try:
            data = os.read(self._unit, 4096)
        except BlockingIOError:
            return b""
        return self._harm(data) if data else b""

    def close(self) -> None:
        self.unplug()
        if self._unit >= 0:
            os.close(self._unit)
            self._unit = -1
