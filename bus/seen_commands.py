# The ids of device commands already carried out, kept on disk until they expire: a replayed command is refused.
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from bus.atomic import write_json

log = logging.getLogger(__name__)

KEEP = 2000  # ids remembered at most; beyond this the soonest to expire are forgotten first


class SeenCommands:
    """Command id -> its expiry. An id is admitted once; it is forgotten only after its expiry has passed (a
    command past its expiry is refused anyway), so the file stays small. Survives restarts and factory resets."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.ids: dict[str, float] = self._read()

    def admit(self, command_id: str, expires: float, now: float) -> bool:
        """True, and remembered, for an id never seen; False for a replay."""
        with self._lock:
            if command_id in self.ids:
                return False
            self.ids = {i: e for i, e in self.ids.items() if e >= now}
            self.ids[command_id] = expires
            if len(self.ids) > KEEP:
                self.ids = dict(sorted(self.ids.items(), key=lambda kv: kv[1])[-KEEP:])
            self._write()
            return True

    def _read(self) -> dict[str, float]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("%s: unreadable (%s); starting with no remembered command ids", self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}

    def _write(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json(self.path, self.ids)
        except OSError as exc:  # a full disk: the id is still remembered in memory until the next start
            log.error("%s: cannot save command ids: %s", self.path, exc)
