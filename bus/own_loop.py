# A bus client's network loop run by a thread of the device's own (the hub's worker) instead of paho's thread.
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_FIRST, RETRY_MAX = 1.0, 16.0  # seconds between connection attempts, doubling, as paho's own thread waits


class OwnLoop:
    """What paho's `loop_forever` thread does, one round per `pump`: connect when due (back-off after a failure or a
    lost connection), wait for the socket, read (callbacks run here), write and keep the connection alive. Every
    write to the socket happens in `pump`: a publish from another thread only queues its packet and wakes the wait
    (paho's own wake-up socket), since with `on_socket_register_write` set paho never writes on the caller's thread,
    where two threads could interleave a partly written packet. One thread only may pump."""

    def __init__(self, client: mqtt.Client, connected: threading.Event, stopping: threading.Event) -> None:
        self.client, self.connected, self.stopping = client, connected, stopping
        client.on_socket_register_write = _leave_to_pump
        self._delay = 0.0  # the wait before the next attempt after a failure; 0 while none failed
        self._next = 0.0  # monotonic time of the next connection attempt

    def until(self, waiting: Callable[[], int], timeout: float, most: int) -> None:
        """Pumps until the callbacks have left the device something (`waiting()` above 0) or `timeout` passes, then
        on while each round adds more, up to `most`: what came together is taken together."""
        deadline = time.monotonic() + timeout
        while not waiting() and (left := deadline - time.monotonic()) > 0 and not self.stopping.is_set():
            self.pump(left)
        while (before := waiting()) < most:
            self.read()
            if waiting() == before:
                return

    def take(self, inbox: queue.Queue[T] | queue.SimpleQueue[T], timeout: float, most: int,
             gather: float = 0.0) -> list[T]:
        """A batch for a device's worker: pumps until what the callbacks put in `inbox` waits (`until`), then up to
        `gather` s more unless `most` wait already (under load a few ms make one commit serve many), and takes up
        to `most` of it without waiting."""
        self.until(inbox.qsize, timeout, most)
        if gather and 0 < inbox.qsize() < most:
            deadline = time.monotonic() + gather
            while inbox.qsize() < most and (left := deadline - time.monotonic()) > 0 and not self.stopping.is_set():
                self.pump(left)
        batch: list[T] = []
        while len(batch) < most:
            try:
                batch.append(inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def read(self) -> None:
        """Reads what has arrived without asking the socket first: a round of `pump(0)` less its `select` and its
        housekeeping, for draining what came together (the next `pump` writes and keeps the connection alive)."""
        if self.client.socket() is not None and self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS \
                and self.client.socket() is None:
            self._back_off()  # lost: on_disconnect has run

    def pump(self, timeout: float) -> None:
        """Runs one round of the network loop, waiting at most `timeout` s for something to read or write."""
        if self.client.socket() is None:
            self._connect(timeout)
            return
        if self.connected.is_set():
            self._delay = 0.0
        if self.client.loop(timeout) != mqtt.MQTT_ERR_SUCCESS and self.client.socket() is None:
            self._back_off()  # lost (on_disconnect has run) or refused: the next attempt after the back-off

    def _connect(self, timeout: float) -> None:
        if self.stopping.is_set():
            return
        if (wait := self._next - time.monotonic()) > 0:
            self.stopping.wait(min(timeout, wait))
            return
        try:
            self.client.reconnect()
        except (OSError, ValueError) as exc:  # refused, unreachable, a failed TLS handshake: tried again later
            log.debug("connection attempt failed: %s", exc)
            self._back_off()
            if self.client.on_connect_fail is not None:  # as paho's own thread tells of it
                self.client.on_connect_fail(self.client, self.client.user_data_get())

    def _back_off(self) -> None:
        self._delay = min(RETRY_MAX, max(RETRY_FIRST, self._delay * 2))
        self._next = time.monotonic() + self._delay

    def flush(self, timeout: float) -> None:
        """Writes what is queued (the goodbye, the disconnect) for up to `timeout` s, at stop, with no other pump."""
        deadline = time.monotonic() + timeout
        while self.client.socket() is not None and self.client.want_write() and time.monotonic() < deadline:
            self.client.loop(0.01)


def _leave_to_pump(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Paho asks for the socket to be watched for writing: `pump` always does when paho wants to write."""
