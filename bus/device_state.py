# What a device says of itself on its retained state topic: the state's detail, and the last will the broker sends.
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bus import messages
from bus.messages import Message
from bus.sqlite_repair import damaged_copies

if TYPE_CHECKING:
    from bus.client import BusClient


def body(client: BusClient, status: str) -> dict[str, Any]:
    """A device.state body: the role's own detail over the client's fixed facts, then what every device reports
    (its outbox, repairs and damaged copies, messages it refused, its boot id)."""
    detail = {**client.facts, **client.state_detail()}
    if client.outbox is not None and status == "online":
        detail["outbox"] = client.outbox.size()
        if client.outbox.held:  # the disk is full: these are in memory only
            detail["outbox_in_memory"] = client.outbox.held
    if client.repairs:
        detail["repaired"] = [r.summary() for r in client.repairs]
    kept = damaged_copies(client.data_dir) if client.data_dir else []
    if kept:
        detail["damaged_copies"] = {"folder": str(client.data_dir), "files": kept}
    if client.rejected.total():
        detail["rejected_messages"] = client.rejected.as_dict()
    detail["boot"] = client.boot
    return {"status": status, "role": client.role, "version": client.version, "detail": detail}


def last_will(client: BusClient) -> bytes:
    """The "offline" state the broker publishes, retained, when the device vanishes without saying goodbye."""
    will = Message(type="device.state", device=client.device, boot=client.boot, seq=0, ts=messages.now_ts(),
                   body={"status": "offline", "role": client.role, "detail": {"reason": "connection lost"}})
    return will.encode()
