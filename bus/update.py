# Fleet updates on a device: a release fetched from the hub and checked, installed beside the running one, tried, kept
# or rolled back by the device itself.
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bus import reset as factory
from bus.atomic import write_json
from bus.version import VERSION

if TYPE_CHECKING:
    from bus.client import BusClient

log = logging.getLogger(__name__)

RELEASES = "releases"  # data_dir/releases/<version>/: each installed release, beside the base install
MANIFEST = "release.json"  # a release's list of files with their SHA-256 (provisioning/release.py writes it)
RELEASE_ENV = "MOTCUA_RELEASE"  # set in a process started on a release: the launcher does not choose again
MAX_BYTES = 300 * 2**20  # a release (motcua's wheel and any new dependency's) is far smaller
MAX_STARTS = 4  # a release on trial that fails to start this many times is abandoned
VERSION_RE = r"[0-9][0-9A-Za-z.+-]{0,39}"
SHA256_RE = r"[0-9a-f]{64}"


@dataclass
class UpdateState:
    """data_dir/update-<device>.json. `current` is the release to run (None: the base install), `previous` the one
    to go back to; `state` is none, trial (until confirmed healthy), ok or rolled_back (`reason` says why)."""

    current: str | None = None
    previous: str | None = None
    state: str = "none"
    trial_until: float = 0.0
    healthy_s: float = 0.0
    starts: int = 0
    reason: str = ""
    failed: str = ""
    at: str = ""

    @staticmethod
    def path(data_dir: Path, device: str) -> Path:
        return data_dir / f"update-{device}.json"

    @classmethod
    def load(cls, data_dir: Path, device: str) -> UpdateState:
        try:
            data = json.loads(cls.path(data_dir, device).read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, data_dir: Path, device: str) -> None:
        self.at = datetime.now(UTC).isoformat(timespec="seconds")
        write_json(self.path(data_dir, device), asdict(self))

    def roll_back(self, reason: str) -> None:
        self.failed, self.current, self.previous = self.current or "", self.previous, None
        self.state, self.reason, self.starts = "rolled_back", reason, 0

    def shown(self) -> dict[str, Any]:
        """What the device's state says of its updates (fleet status shows it)."""
        return {"state": self.state, "release": self.current or "base", "failed": self.failed, "reason": self.reason,
                "at": self.at}


def release_dir(data_dir: Path, version: str) -> Path:
    return data_dir / RELEASES / version


def choose(data_dir: Path, device: str, now: float) -> UpdateState:
    """At every start, before anything else (the launcher, running the base install): a release on trial gets
    MAX_STARTS starts within its time to prove itself healthy; after that it is rolled back. Returns the state,
    whose `current` is the release to run now (None: the base install)."""
    state = UpdateState.load(data_dir, device)
    if state.current is not None and not (release_dir(data_dir, state.current) / "provisioning").is_dir():
        state.roll_back(f"release {state.current} is not installed in {data_dir / RELEASES}")
    elif state.state == "trial":
        state.starts += 1
        if state.starts > MAX_STARTS:
            state.roll_back(f"{state.current} failed to start {MAX_STARTS} times")
        elif now > state.trial_until:
            state.roll_back(f"{state.current} did not report healthy within {state.healthy_s:.0f} s")
    else:
        return state
    state.save(data_dir, device)
    if state.state == "rolled_back":
        log.error("%s: update rolled back to %s: %s", device, state.current or "the base install", state.reason)
    return state


def launch(data_dir: Path, device: str) -> None:
    """What `motcua run` does first, in the base install systemd starts: if a release is to run, replaces this
    process with it (the same PID, so systemd's watchdog and notify socket carry over), else returns. A process
    already started on a release (RELEASE_ENV set) never chooses again."""
    if os.environ.get(RELEASE_ENV):
        return
    state = choose(data_dir, device, time.time())
    if state.current is None:
        return
    folder = release_dir(data_dir, state.current)
    env = {**os.environ, RELEASE_ENV: state.current,
           "PYTHONPATH": os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)}
    log.info("%s: starting release %s from %s", device, state.current, folder)
    # -P: the current folder never shadows the release (python -m would put it first on the path)
    os.execve(sys.executable, [sys.executable, "-P", "-m", "provisioning", *sys.argv[1:]], env)


def fetch(url: str, sha256: str, dest: Path) -> list[Path]:
    """Downloads a release's manifest from `url` (a folder ending in /), checks it hashes to `sha256`, then
    downloads every file it lists and checks each one. Returns the wheels; raises ValueError saying what is wrong."""
    if not url.startswith(("http://", "https://")) or not url.endswith("/"):
        raise ValueError(f"args.url must be an http(s) folder address ending in '/', got {url!r}")
    dest.mkdir(parents=True, exist_ok=True)
    manifest = _download(url + MANIFEST, dest / MANIFEST)
    if hashlib.sha256(manifest).hexdigest() != sha256:
        raise ValueError(f"{url}{MANIFEST} does not match the checksum ward IT sent: not the release offered")
    try:
        files = json.loads(manifest)["files"]
        listed = [(str(f["name"]), str(f["sha256"])) for f in files]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{url}{MANIFEST} is not a release manifest") from None
    wheels = []
    for name, digest in listed:
        if not re.fullmatch(r"[A-Za-z0-9_.+-]{1,200}\.whl", name):
            raise ValueError(f"the manifest names {name!r}, which is not a wheel file name")
        data = _download(url + name, dest / name)
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"{name} does not match its checksum in the manifest (damaged on the way?)")
        wheels.append(dest / name)
    return wheels


def _download(url: str, path: Path) -> bytes:
    import urllib.request  # only while updating: a device's memory is not spent on it otherwise

    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the scheme is checked by fetch
            data = answer.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot download {url}: {exc}") from None
    if len(data) > MAX_BYTES:
        raise ValueError(f"{url} is larger than {MAX_BYTES // 2**20} MB")
    path.write_bytes(data)
    return data


def install(wheels: list[Path], target: Path) -> None:
    """Installs the wheels into `target` (pip --target, nothing fetched from anywhere), all or nothing."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--no-cache-dir",
                           "--disable-pip-version-check", "--quiet", "--target", str(partial), *map(str, wheels)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise ValueError(f"installing the release failed: {(done.stderr or done.stdout).strip()[-500:]}")
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)


class Updater:
    """The `update` device command and the watch over a release on trial: confirmed once the device has been
    connected and healthy for a while, rolled back (and restarted) once its time is up without that."""

    def __init__(self, bus: BusClient, data_dir: Path, restart: Callable[[], None]) -> None:
        self.bus, self.data_dir, self.restart = bus, data_dir, restart
        self.state = UpdateState.load(data_dir, bus.device)
        self.running = os.environ.get(RELEASE_ENV) or None  # None: the base install
        if self.state.state != "none":
            bus.facts["update"] = self.state.shown()
        self._thread = threading.Thread(target=self._watch, name=f"update-{bus.device}", daemon=True)
        self._thread.start()
        bus.adopt(self._thread)

    def command(self, args: dict[str, Any]) -> dict[str, Any]:
        version, url, sha256 = args.get("version"), args.get("url"), args.get("sha256")
        healthy_s = args.get("healthy_s", 120)
        if not isinstance(version, str) or not re.fullmatch(VERSION_RE, version):
            raise ValueError(f"args.version must be a release version, got {version!r}")
        if not isinstance(sha256, str) or not re.fullmatch(SHA256_RE, sha256):
            raise ValueError("args.sha256 must be the release manifest's SHA-256, 64 hex digits")
        if not isinstance(healthy_s, int | float) or isinstance(healthy_s, bool) or not 10 <= healthy_s <= 3600:
            raise ValueError(f"args.healthy_s must be 10..3600 seconds, got {healthy_s!r}")
        if version == VERSION:
            raise ValueError(f"this device already runs {version}")
        if self.state.state == "trial":
            raise ValueError(f"the update to {self.state.current} is still on trial; wait until it is kept or "
                             f"rolled back")
        target = release_dir(self.data_dir, version)
        wheels = fetch(str(url), sha256, self.data_dir / "downloads" / version)
        install(wheels, target)
        shutil.rmtree(self.data_dir / "downloads" / version, ignore_errors=True)
        self.state = UpdateState(current=version, previous=self.running, state="trial", healthy_s=float(healthy_s),
                                 trial_until=time.time() + healthy_s)
        self.state.save(self.data_dir, self.bus.device)
        log.warning("%s: installed %s beside %s; restarting into it (kept if healthy within %s s)",
                    self.bus.device, version, VERSION, healthy_s)
        factory.restart_soon(self.restart)
        return {"installed": version, "running": VERSION, "healthy_within_s": healthy_s, "restarting_in_s": 0.5}

    def _watch(self) -> None:
        healthy_since: float | None = None
        while not self.bus.stopping.wait(1.0):
            state = self.state
            if state.state != "trial" or state.current != self.running:
                continue
            now = time.time()
            well = self.bus.connected.is_set() and self.bus.health() is None
            healthy_since = (healthy_since or now) if well else None
            if healthy_since is not None and now - healthy_since >= min(15.0, state.healthy_s / 4):
                state.state, state.reason = "ok", f"healthy for {now - healthy_since:.0f} s"
                self._changed(state)
                self._prune(state)
            elif now > state.trial_until:
                state.roll_back(f"{state.current} did not report healthy within {state.healthy_s:.0f} s")
                self._changed(state)
                factory.restart_soon(self.restart)

    def _changed(self, state: UpdateState) -> None:
        try:
            state.save(self.data_dir, self.bus.device)
        except OSError as exc:  # a full or read-only disk: said, and the decision still stands for this run
            log.error("%s: cannot save the update state: %s", self.bus.device, exc)
        self.bus.facts["update"] = state.shown()
        log.warning("%s: update %s: %s", self.bus.device, state.state, state.reason)
        self.bus.publish_state()

    def _prune(self, state: UpdateState) -> None:
        """Keeps the release running and the one before it; older ones go."""
        keep = {state.current, state.previous}
        for path in (self.data_dir / RELEASES).glob("*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)
