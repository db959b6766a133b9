# The fake gateway: each message as a JSON line in a file, for tests and the demo; told to fail, it fails.
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from bus.config import opt
from notify.errors import GatewayError
from notify.gateways import Outgoing


@dataclass(frozen=True)
class Options:
    path: str = opt("sent-messages.jsonl", doc="below data_dir: one JSON line per message 'sent'")


class FakeGateway:
    name = "fake"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failing = ""  # a reason: every send fails with it until cleared

    def send(self, message: Outgoing) -> str:
        if self.failing:
            raise GatewayError(self.failing)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return f"fake-{message.id}"

    def sent(self) -> list[dict]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def close(self) -> None:
        pass


def make(options: Options, data_dir: Path) -> FakeGateway:
    return FakeGateway(data_dir / options.path)
