# Ward IT's check of one serial port: open it, run the handshake, report who answered and how the line looks.
from __future__ import annotations

import time
from typing import Any

from firmware_bridge import protocol as p
from firmware_bridge.link import Link
from firmware_bridge.port import Opener, open_port


def probe(port: str, baud: int = 115200, timeout: float = 5.0, show: str = "",
          opener: Opener = open_port) -> dict[str, Any]:
    """Runs the handshake on `port` and returns the link's status after it (or after `timeout`): state ready with
    the device's kind, firmware and serial number, or closed/syncing with the last error. With `show`, that text is
    sent to a display so a person can see which unit is on this port."""
    link = Link(port, baud, "", on_message=lambda _: None, opener=opener)
    link.start()
    try:
        deadline = time.monotonic() + timeout
        while link.state not in ("ready", "wrong_device") and time.monotonic() < deadline:
            time.sleep(0.02)
        if show and link.identity is not None:
            link.send(p.show(show))
            while link.session.busy and time.monotonic() < deadline:
                time.sleep(0.02)
        return link.status()
    finally:
        link.stop()
