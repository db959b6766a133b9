# Factory reset that loses nothing: outboxes delivered or exported first, the device's files wiped at the next start.
from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bus.atomic import write_json
from bus.outbox import EXPORT_SUFFIX

if TYPE_CHECKING:
    from bus.client import BusClient

log = logging.getLogger(__name__)

DRAIN_S = 20.0  # how long a reset waits for the receivers to acknowledge what the outboxes hold
ARCHIVE = "archive"  # records a reset keeps out of the way rather than deleting: data_dir/archive/<time>-<device>/
SEEN = "commands-seen-{device}.json"  # the command ids a device has obeyed: kept, so a reset cannot be replayed


@dataclass(frozen=True)
class ResetSpec:
    """What a role's factory reset does to its files in the data folder (names and glob patterns there): `wipe` is
    deleted, `archive` moved under archive/ (records kept, out of the way), everything else stays (a kiosk's offline
    numbering, another device's files on the same machine). `outboxes` are drained before, or exported for the next
    start to send. `refuse` says why a reset must not happen now (the hub while citizens wait), else None."""

    wipe: tuple[str, ...] = ()
    archive: tuple[str, ...] = ()
    refuse: Callable[[], str | None] = field(default=lambda: None, compare=False)


def pending_path(data_dir: Path, device: str) -> Path:
    return data_dir / f"factory-reset-{device}.pending.json"


def report_path(data_dir: Path, device: str) -> Path:
    return data_dir / f"factory-reset-{device}.last.json"


def deliver_or_export(clients: list[BusClient], wait_s: float = DRAIN_S) -> dict[str, int]:
    """Sends what every client's outbox holds and waits up to `wait_s` for the receivers' acknowledgements; what is
    still there then (no broker, receiver down) is written to an export file beside the outbox, which the next start
    sends again under the same ids, so the receiver counts each once. Returns delivered and exported counts."""
    boxes = [c for c in clients if c.outbox is not None]
    held = {id(c): c.outbox.size() for c in boxes}  # type: ignore[union-attr]
    for c in boxes:
        c.outbox.make_all_due()  # type: ignore[union-attr]
        c.wake_outbox()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and any(c.outbox.size() for c in boxes if c.connected.is_set()):  # type: ignore
        time.sleep(0.1)
    exported = sum(c.outbox.export() for c in boxes)  # type: ignore[union-attr]
    return {"held": sum(held.values()), "delivered": sum(held.values()) - exported, "exported": exported}


def request(data_dir: Path, device: str, sent: dict[str, int], by: str) -> dict[str, Any]:
    """Records that the device must reset at its next start (after `deliver_or_export`); returns the report."""
    report = {"requested_at": _now(), "by": by, **sent, "identity": "kept"}
    write_json(pending_path(data_dir, device), report)
    return report


def finish_pending(data_dir: Path, device: str, spec: ResetSpec) -> dict[str, Any] | None:
    """At start, before anything opens its files: carries out a requested reset. Safe to repeat after a power cut
    half way (every step is idempotent). Returns the report, also kept in factory-reset-<device>.last.json."""
    pending = pending_path(data_dir, device)
    if not pending.exists():
        return None
    try:
        report = json.loads(pending.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {"requested_at": "?", "by": "?"}
    report.update(wipe(data_dir, device, spec))
    report["done_at"] = _now()
    write_json(report_path(data_dir, device), report)
    pending.unlink()
    log.warning("%s: factory reset done: %d file(s) wiped, %d archived in %s", device, len(report["wiped"]),
                len(report["archived"]), report["archive"] or "-")
    return report


def wipe(data_dir: Path, device: str, spec: ResetSpec) -> dict[str, Any]:
    """Deletes the spec's `wipe` files and moves its `archive` files; never an export file, the reset's own files or
    the command ids. Returns what it did."""
    spared = {pending_path(data_dir, device).name, report_path(data_dir, device).name, SEEN.format(device=device)}
    archive = data_dir / ARCHIVE / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{device}"
    wiped, archived = [], []
    if any(Path(p).is_absolute() for p in (*spec.archive, *spec.wipe)):
        raise ValueError("a reset names files inside the data folder only")
    for pattern in spec.archive:
        for path in sorted(data_dir.glob(pattern)):
            if path.name not in spared and not path.name.endswith(EXPORT_SUFFIX):
                archive.mkdir(parents=True, exist_ok=True)
                shutil.move(path, archive / path.name)
                archived.append(path.name)
    for pattern in spec.wipe:
        for path in sorted(data_dir.glob(pattern)):
            if path.name in spared or path.name.endswith(EXPORT_SUFFIX) or not path.exists():
                continue
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
            wiped.append(path.name)
    return {"wiped": wiped, "archived": archived, "archive": str(archive) if archived else ""}


def last_report(data_dir: Path, device: str) -> dict[str, Any] | None:
    """The last reset's report, for the device's state (ward IT sees what a reset did after the restart)."""
    try:
        data = json.loads(report_path(data_dir, device).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def restart_soon(restart: Callable[[], None], after_s: float = 0.5) -> None:
    """Stops the service after its reply has gone out; systemd's Restart=always starts it again."""
    timer = threading.Timer(after_s, restart)
    timer.daemon = True
    timer.start()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
