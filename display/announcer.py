# The announcer: calls are queued and each is played whole, in order; a recall plays the call again.
from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from display.audio import Player
from display.clips import ClipSet
from display.errors import AudioError, ClipError
from display.phrases import call_text, call_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    label: str
    counter: int
    recall: bool = False


class Announcer:
    """A new call never cuts the one playing: one worker thread plays the queue in order. Audio failures are logged
    and counted, and the next call is tried; they never stop the board. `failing` says why calls go unspoken, and
    since when (wall clock), until one is spoken again; `on_change` is told when that starts or ends."""

    def __init__(self, clips: ClipSet, player: Player, variant: str = "north", pause_s: float = 0.6,
                 max_queue: int = 30, on_change: Callable[[], object] | None = None) -> None:
        self.clips, self.player, self.variant, self.pause_s = clips, player, variant, pause_s
        self.on_change = on_change
        self.spoken: list[Call] = []
        self.failures = 0
        self.failing: tuple[str, float] | None = None
        self._queue: queue.Queue[Call | None] = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def announce(self, label: str, counter: int, recall: bool = False) -> bool:
        try:
            self._queue.put_nowait(Call(label, counter, recall))
            return True
        except queue.Full:
            log.warning("announcer backlog full; call %s to counter %s is shown but not spoken", label, counter)
            return False

    def _failing(self, now: tuple[str, float] | None) -> None:
        self.failing = now
        if self.on_change is not None:
            self.on_change()

    def alive(self) -> bool:
        """Whether calls are being spoken: the worker runs (or was asked to stop)."""
        return self._thread.is_alive() or self._stop.is_set()

    def idle(self) -> bool:
        return self._queue.unfinished_tasks == 0

    def stop(self) -> None:
        """Ends after the call playing: the worker looks at the stop after each call, and a worker waiting for one
        is woken. Never waits for room in a full backlog (the stopped worker would never make it)."""
        self._stop.set()
        with contextlib.suppress(queue.Full):  # then the worker is not waiting: it sees the stop after its call
            self._queue.put_nowait(None)
        if self._thread.ident is not None:  # started (a board stopped before it started has nothing to wait for)
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            call = self._queue.get()
            try:
                if call is None:
                    return
                self._say(call)
            except Exception:  # service edge: the next call must still be spoken; logged with its trace
                log.exception("announcer: speaking %s failed", call)
            finally:
                self._queue.task_done()

    def _say(self, call: Call) -> None:
        log.info("calling: %s", call_text(call.label, call.counter, self.variant))
        try:
            wav = self.clips.compose(call_tokens(call.label, call.counter, self.variant))
            self.player.play(wav)
            self.spoken.append(call)
            if self.failing is not None:
                log.info("calls are spoken again")
                self._failing(None)
        except (AudioError, ClipError, OSError) as exc:
            self.failures += 1
            log.warning("could not speak %s to counter %s: %s", call.label, call.counter, exc)
            if self.failing is None:
                self._failing((str(exc).strip()[:300], time.time()))
        self._stop.wait(self.pause_s)
