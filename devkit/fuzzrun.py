# Runs the fuzzers against every receiver of a ward on a real broker, and says what each one took and survived.
from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bus.client import BusClient
from bus.config import BrokerSection
from devkit import receivers
from devkit.broker import Broker
from devkit.fuzz import Run, corpus, expand, feed

NAMES = ("hub", "board", "kiosk", "rating keypad", "rating touch", "desk", "bridge", "collector", "notify")


@dataclass
class Result:
    name: str
    run: Run
    rejected: int
    tracebacks: int
    healthy: bool
    works: bool

    def row(self) -> str:
        return (f"{self.name:<14} {self.run.payloads:>9,} {self.rejected:>9,} {self.run.us_per_payload:>10.1f} "
                f"{self.tracebacks:>10} {'yes' if self.healthy else 'NO':>8} {'yes' if self.works else 'NO':>6}")


HEADER = (f"{'receiver':<14} {'payloads':>9} {'rejected':>9} {'us each':>10} {'tracebacks':>10} {'healthy':>8} "
          f"{'works':>6}")


class Ward:
    """A broker, a hub, an officer's and a kiosk's clients: what the receivers need around them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.stack = ExitStack()

    def __enter__(self) -> Ward:
        self.broker = self.stack.enter_context(Broker(self.workdir / "broker", kind="mosquitto"))
        self.hub_receiver, self.hub = self.stack.enter_context(receivers.hub(self.workdir / "hub", self.broker.port))
        self.officer = self._client("counter-1", "bridge", counters=(1,))
        self.kiosk = self._client("kiosk-7", "kiosk")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def _client(self, device: str, role: str, **kw: Any) -> BusClient:
        client = BusClient(BrokerSection(port=self.broker.port), receivers.WARD, device, role, **kw)
        client.start()
        client.wait_connected(10)
        self.stack.callback(client.stop)
        return client

    def serve(self) -> int:
        """A ticket issued and being served at counter 1, for a rating device to rate; its id."""
        self.kiosk.request(self.kiosk.topics.ticket_request, "ticket.request", {"service": "HT"}, timeout=10)
        replies = [self.officer.request(self.officer.topics.counter_command(1), "counter.command",
                                        {"action": action, "counter": 1}, timeout=10)
                   for action in ("call_next", "start")]
        assert all(r is not None and r.type == "counter.result" for r in replies), replies
        return replies[-1].body["ticket"]["id"]  # type: ignore[union-attr]

    @contextmanager
    def receiver(self, name: str) -> Iterator[receivers.Receiver]:
        folder = Path(tempfile.mkdtemp(dir=self.workdir, prefix=name.replace(" ", "-") + "-"))
        port = self.broker.port
        if name == "hub":
            yield self.hub_receiver
            return
        made = {"board": lambda: receivers.board(folder, port, self.officer, self.kiosk, self.hub.republish),
                "kiosk": lambda: receivers.kiosk(folder, port, self.hub.republish),
                "rating keypad": lambda: receivers.rating_keypad(folder, port, self.officer, self.serve),
                "rating touch": lambda: receivers.rating_touch(folder, port),
                "desk": lambda: receivers.desk(folder, port),
                "bridge": lambda: receivers.bridge(folder, port),
                "collector": lambda: receivers.collector(folder, port),
                "notify": lambda: receivers.notify(folder, port, self.kiosk)}[name]
        with made() as receiver:
            yield receiver

    def fuzz(self, name: str, payloads: int, corpus_size: int, seed: int = 1, derandomize: bool = True) -> Result:
        """Feeds receiver `name` `payloads` payloads: a Hypothesis corpus of `corpus_size`, then mutations of it."""
        catcher = receivers.Tracebacks()
        logging.getLogger().addHandler(catcher)
        try:
            with self.receiver(name) as r:
                base = corpus(corpus_size, r.types, r.hints, derandomize)
                before = r.bus.rejected.total()
                run = feed(r.deliver, r.topics, expand(base, payloads, seed), seed, r.between)
                works = True
                try:
                    r.works()
                except AssertionError:
                    logging.getLogger(__name__).exception("%s no longer does its work", name)
                    works = False
                healthy = r.health() is None
                return Result(name, run, r.bus.rejected.total() - before, len(catcher.records), healthy, works)
        finally:
            logging.getLogger().removeHandler(catcher)
