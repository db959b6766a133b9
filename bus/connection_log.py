# What a bus client's connection leaves in the log: each outage and refusal said once, not paho's error per retry.
from __future__ import annotations

import logging

log = logging.getLogger("bus.client")  # the client's own lines, under the name they always had


LOST = ("failed to receive on socket", "timeout on socket")  # paho's words for a connection it has just lost


class _RetryNoise(logging.Filter):
    """Drops the error paho's own thread logs on each round that finds no connection while it retries one, and
    keeps its error for a connection just lost (a broker restarted: "Connection reset by peer") as an info line:
    the outage is said once as a warning (`ConnectionLog`), and ward IT should not read an error for an outage the
    ward rides out."""

    def filter(self, record: logging.LogRecord) -> bool:
        said = record.getMessage()
        if said.startswith(LOST) and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return not said.startswith("Client is not connected")


_RETRY_NOISE = _RetryNoise()


def paho_logger() -> logging.Logger:
    """The logger paho's clients write to, with its per-retry error dropped (adding the filter again is a no-op)."""
    paho = logging.getLogger("paho")
    paho.addFilter(_RETRY_NOISE)
    return paho


class ConnectionLog:
    """One device's connection in the log: a broker it cannot reach, or lost, is one warning until it connects
    again; a refusal is one error while it repeats; each connection is one line. Called from the thread that runs
    the client's network loop."""

    def __init__(self, device: str, host: str, port: int) -> None:
        self.device, self.where = device, f"{host}:{port}"
        self.refused = ""  # why the broker refused the last connection, if it did
        self._said = False  # the outage going on has been logged

    def connected(self) -> None:
        self._said, self.refused = False, ""
        log.info("%s: connected to %s", self.device, self.where)

    def refusal(self, why: str) -> None:
        if why != self.refused:
            log.error("%s: %s", self.device, why)
        self.refused = why

    def lost(self, reason: object) -> None:
        self._said = True
        log.warning("%s: lost the broker at %s (%s); reconnecting in the background", self.device, self.where, reason)

    def attempt_failed(self, problem: str | None) -> None:
        """An attempt that failed: for `problem` (a TLS handshake's, in plain words) a refusal, else, not knowing
        why, once until the next connection."""
        if problem:
            self.refusal(problem)
            return
        self.refused = ""
        if not self._said:
            self._said = True
            log.warning("%s: cannot reach the broker at %s (is it running, and the address right?); trying again in "
                        "the background", self.device, self.where)
