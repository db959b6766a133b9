# Fleet updates from ward IT's side: ask devices to install an offered release, then watch each keep it or roll back.
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bus.config import BrokerSection
from provisioning.errors import ProvisioningError
from provisioning.fleet import FleetWatch, fleet_rows, send_command
from provisioning.release import read_manifest

INSTALL_TIMEOUT_S = 300.0  # a Pi downloading and installing a release over the ward's Wi-Fi
SETTLED = ("ok", "rolled_back")


def targets(rows: list[dict[str, Any]], names: tuple[str, ...], every: bool, version: str) -> list[str]:
    """The devices to update, the hub first: those named, or with `every` each online device (of the fleet's `rows`)
    not already running `version`."""
    if names and every:
        raise ProvisioningError("name devices or give --all, not both")
    if not names and not every:
        raise ProvisioningError("name the devices to update, or give --all for every online device")
    chosen = list(names) or [r["device"] for r in rows if r["status"] == "online" and r["version"] != version]
    hubs = _hubs(rows)
    return sorted(chosen, key=lambda device: device not in hubs)  # stable: otherwise in the order given


def hub_behind(rows: list[dict[str, Any]], devices: list[str], version: str) -> str | None:
    """A warning when devices are to take `version` while a hub not among them runs another: a device of a newer
    release may send what an older hub refuses (docs/deploy.md, section 6)."""
    behind = [r for r in rows if r.get("role") == "hub" and r["device"] not in devices and r["version"] != version]
    if not behind or not devices:
        return None
    hub = behind[0]
    return (f"warning: {hub['device']} runs {hub['version'] or 'an unknown version'}, not {version}; update the hub "
            f"first (`motcua fleet update ... {hub['device']}`): a device of a newer release may send what an older "
            "hub refuses")


def update(broker: BrokerSection, ward: str, release: str | Path, url: str, names: tuple[str, ...] = (),
           every: bool = False, healthy_s: int = 120, ttl_s: float = 120.0,
           say: Callable[[str], None] = print) -> dict[str, dict[str, Any]]:
    """`motcua fleet update`: checks the release folder (the checksum sent is of the manifest found there), asks
    the hub first (if it is to take it) to install it from `url` (the hub's release shelf) and waits until it has
    kept it — a hub that did not leaves every other device as it is — then each other device in turn, and waits
    until each has kept it or rolled back by itself. Returns device -> its update state; raises if a device refused
    or never settled."""
    manifest, digest = read_manifest(release)
    version = str(manifest.get("version", ""))
    shelf = url if url.endswith("/") else url + "/"
    rows = fleet_rows(broker, ward)
    devices = targets(rows, names, every, version)
    if not devices:
        say(f"every online device already runs {version}")
        return {}
    if warning := hub_behind(rows, devices, version):
        say(warning)
    args = {"version": version, "url": f"{shelf}{version}/", "sha256": digest, "healthy_s": healthy_s}
    hub_ids = _hubs(rows)
    hubs = [d for d in devices if d in hub_ids]
    states: dict[str, dict[str, Any]] = {}
    for group in (hubs, [d for d in devices if d not in hubs]):
        try:
            states |= _install(broker, ward, group, args, healthy_s, ttl_s, say) if group else {}
        except ProvisioningError as exc:
            left = len(devices) - len(group) if group is hubs else 0
            raise ProvisioningError(f"{exc}{f'; the {left} other device(s) were not asked' if left else ''}") from None
    return states


def _hubs(rows: list[dict[str, Any]]) -> set[str]:
    return {r["device"] for r in rows if r.get("role") == "hub"}


def _install(broker: BrokerSection, ward: str, devices: list[str], args: dict[str, Any], healthy_s: int,
             ttl_s: float, say: Callable[[str], None]) -> dict[str, dict[str, Any]]:
    version = args["version"]
    refused = {}
    for device in devices:
        say(f"{device}: installing {version} ...")
        body = send_command(broker, ward, device, "update", args, INSTALL_TIMEOUT_S, ttl_s)
        if body.get("ok"):
            say(f"{device}: installed; restarting into {version} (kept if healthy within {healthy_s} s)")
        else:
            refused[device] = refusal(body)
            say(f"{device}: refused: {refused[device]}")
    waiting = [d for d in devices if d not in refused]
    states = settle(broker, ward, waiting, version, healthy_s + 60.0) if waiting else {}
    for device, state in states.items():
        say(f"{device}: {state.get('state')} - running {state.get('release')}"
            f"{'; ' + state['reason'] if state.get('reason') else ''}")
    bad = {**refused, **{d: s.get("reason", "") for d, s in states.items() if s.get("state") != "ok"}}
    if bad:
        raise ProvisioningError(f"{len(bad)} of {len(devices)} devices did not take {version}: "
                                + "; ".join(f"{d}: {why}" for d, why in bad.items()))
    return states


def settle(broker: BrokerSection, ward: str, devices: list[str], version: str,
           timeout: float) -> dict[str, dict[str, Any]]:
    """Waits for each device's state to say it kept `version` or rolled back from it; raises naming those that
    said neither in time (offline, or still on trial)."""
    deadline = time.monotonic() + timeout
    with FleetWatch(broker, ward) as watch:
        while True:
            found = {d: update_state(watch.states[d].body) for d in devices if d in watch.states}
            done = {d: s for d, s in found.items() if decided(s, version)}
            if len(done) == len(devices):
                return done
            if time.monotonic() > deadline:
                late = [d for d in devices if d not in done]
                raise ProvisioningError(f"no final word on the update from {', '.join(late)} within {timeout:.0f} s "
                                        f"(`motcua fleet status` shows where each stands)")
            time.sleep(0.5)


def refusal(reply: dict[str, Any]) -> str:
    """Why a device refused a command, from its device.reply's free-form `result` (anything it sent)."""
    result = reply.get("result")
    return str(result.get("reason", "refused")) if isinstance(result, dict) else "refused"


def update_state(body: dict[str, Any]) -> dict[str, Any]:
    detail = body["detail"] if isinstance(body.get("detail"), dict) else {}
    state = detail.get("update") if isinstance(detail.get("update"), dict) else {}
    return {**state, "online": body.get("status") == "online", "version": body.get("version")}


def decided(state: dict[str, Any], version: str) -> bool:
    kept = state.get("state") == "ok" and state.get("release") == version and state.get("version") == version
    dropped = state.get("state") == "rolled_back" and state.get("failed") == version
    return state["online"] and (kept or dropped)
