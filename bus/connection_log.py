# What a bus client's connection leaves in the log: each outage said once, not paho's error on every retry.
from __future__ import annotations

import logging

log = logging.getLogger("bus.client")


class _RetryNoise(logging.Filter):
    """Drops the error paho's own thread logs on each round that finds no connection while it retries one: the
    outage has been said once (`ConnectionLog`), and ward IT should not read an error per retry of an outage the
    ward rides out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Client is not connected")


_RETRY_NOISE = _RetryNoise()


def paho_logger() -> logging.Logger:
    """The logger paho's clients write to, with its per-retry error dropped."""
    paho = logging.getLogger("paho")
    if _RETRY_NOISE not in paho.filters:
        paho.addFilter(_RETRY_NOISE)
    return paho


class ConnectionLog:
    """One device's connection in the log: a broker it cannot reach, or lost, is one warning until it connects
    again; each connection is one line. Called from the thread that runs the client's network loop."""

    def __init__(self, device: str, host: str, port: int) -> None:
        self.device, self.where = device, f"{host}:{port}"
        self._said = False  # the outage going on has been logged

    def connected(self) -> None:
        self._said = False
        log.info("%s: connected to %s", self.device, self.where)

    def lost(self, reason: object) -> None:
        self._said = True
        log.warning("%s: lost the broker at %s (%s); reconnecting in the background", self.device, self.where, reason)

    def attempt_failed(self) -> None:
        if not self._said:
            self._said = True
            log.warning("%s: cannot reach the broker at %s (is it running, and the address right?); trying again in "
                        "the background", self.device, self.where)
