# Replies to what this device asked: who waits for which correlation id, and which ids it sent (the rest refused).
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from bus.messages import Message

SENT_KEPT = 10000  # correlation ids of requests sent, remembered to tell a late reply from a stray one


class Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: Message | None = None


class Replies:
    """The request side's bookkeeping of a BusClient: requests made, replies awaited."""

    def __init__(self) -> None:
        self._waiters: dict[str, Waiter] = {}
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def sent(self, corr: str) -> None:
        """Remembers a request's correlation id (the latest SENT_KEPT)."""
        with self._lock:
            self._sent[corr] = None
            if len(self._sent) > SENT_KEPT:
                self._sent.popitem(last=False)

    @contextmanager
    def awaiting(self, corr: str) -> Iterator[Waiter]:
        """A waiter its reply is handed to while the block runs."""
        waiter = self._waiters[corr] = Waiter()
        try:
            yield waiter
        finally:
            self._waiters.pop(corr, None)

    def answer(self, msg: Message) -> bool:
        """Hands a reply to whoever waits for it; whether it answers a request this device made."""
        waiter = self._waiters.get(msg.corr or "")
        if waiter is not None:
            waiter.reply = msg
            waiter.event.set()
            return True
        return msg.corr in self._sent
