# A client's subscriptions: each filter's QoS and handlers, and which handlers a received topic reaches.
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bus.topics import topic_matches

if TYPE_CHECKING:
    from bus.messages import Message

TOPICS_KEPT = 1024  # topics whose handlers are remembered; past it the memory starts again (topics come from outside)
Handler = Callable[["Message", str], None]  # called with each valid message on a matching topic, and the topic


class Subscriptions:
    """Filters in the order subscribed. A role hears few topics, each many times: the handlers a topic reaches are
    worked out on its first message and remembered until the next subscription, instead of matching every filter
    again for every message. `lock` is held while the filters are sent to the broker, so a subscription made
    meanwhile is neither lost nor sent twice."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._filters: dict[str, tuple[int, tuple[Handler, ...]]] = {}
        self._reached: dict[str, tuple[Handler, ...]] = {}

    def add(self, topic_filter: str, handler: Handler, qos: int) -> None:
        """Adds `handler` to the filter, at the higher of its QoS and `qos`; call with `lock` held."""
        old_qos, handlers = self._filters.get(topic_filter, (qos, ()))
        self._filters[topic_filter] = (max(qos, old_qos), (*handlers, handler))
        self._reached = {}  # a new dict: a reader on another thread keeps the one it took

    def filters(self) -> Iterator[tuple[str, int]]:
        """Each filter and its QoS; call with `lock` held."""
        for topic_filter, (qos, _) in self._filters.items():
            yield topic_filter, qos

    def handlers(self, topic: str) -> tuple[Handler, ...]:
        """Every handler whose filter matches `topic`, in the order subscribed."""
        reached = self._reached
        found = reached.get(topic)
        if found is None:
            found = tuple(h for topic_filter, (_, hs) in list(self._filters.items())
                          if topic_matches(topic_filter, topic) for h in hs)
            if len(reached) >= TOPICS_KEPT:
                reached.clear()
            reached[topic] = found
        return found
