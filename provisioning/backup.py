# Backing up the hub's machine and restoring it onto a new card: configs, the ward CA, broker accounts, databases.
from __future__ import annotations

import grp
import hashlib
import json
import os
import pwd
import shutil
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from bus.sqlite_repair import RESTORED, leave_restored_note
from hub.database_health import LAST_BACKUP
from provisioning.broker_conf import WardBroker
from provisioning.errors import ProvisioningError

PREFIX = "motcua-backup-"
MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
# A database is copied whole through SQLite (its -wal folded in); a damaged copy a repair kept, the release shelf
# (offered again from its release folder), a backup of our own found under a source and a restore's note are left out.
LEFT_OUT_SUFFIXES = ("-wal", "-shm", "-journal", RESTORED)
LEFT_OUT_DIRS = {"offered"}
HEADROOM = 1.1  # room asked for on the destination beyond the files' own size
BROKER = WardBroker()  # where `motcua enrol` and `motcua install` put the broker's files by default


@dataclass(frozen=True)
class HubMachine:
    """What a hub's machine cannot be rebuilt without: the folder of its config (every device's config and the ward
    CA), its data folder, the broker's password file, access list, certificate and key, and any `also`."""

    config: Path
    password_file: Path = BROKER.password_file
    acl_file: Path = BROKER.acl_file
    cert_dir: Path = BROKER.cert.parent
    also: tuple[Path, ...] = ()

    def sources(self, data_dir: Path) -> list[Path]:
        """The files and folders to back up that exist here."""
        found = [self.config.absolute().parent, data_dir, self.password_file, self.acl_file,
                 self.cert_dir / BROKER.cert.name, self.cert_dir / BROKER.key.name, *self.also]
        return [p for p in found if p.exists()]

    def options(self) -> tuple[str, ...]:
        """The `motcua backup` options that name these places where they differ from the defaults (for the timer)."""
        places = [("--password-file", self.password_file, BROKER.password_file),
                  ("--acl-file", self.acl_file, BROKER.acl_file), ("--cert-dir", self.cert_dir, BROKER.cert.parent),
                  *(("--also", p, None) for p in self.also)]
        return tuple(a for option, path, default in places if path != default
                     for a in (option, str(Path(path).absolute())))


def back_up(sources: Iterable[Path], dest: Path, name: str, keep: int = 14, now: float | None = None,
            hub_database: Path | None = None, say: Callable[[str], None] = print) -> Path:
    """Writes one backup folder of every file under `sources` into `dest` and returns it: each SQLite database as a
    consistent copy taken through SQLite while its service runs (checked with integrity_check), every other file as
    it is, a manifest with each file's place, checksum, mode and owner. The folder is written under a hidden name and
    renamed when complete, so a backup cut short by a power cut is never taken for one; then only the newest `keep`
    backups of `name` are kept. Everything in it is readable by root only: it holds the CA's key and passwords.
    `hub_database`: the hub's, whose restore makes the numbering jump ahead; beside it goes a note of this backup
    (when, where), which the hub's state carries to fleet status."""
    try:
        return _back_up([Path(s) for s in sources], Path(dest), name, keep, now, hub_database, say)
    except OSError as exc:  # the stick pulled out, a folder we may not read, a full disk: said in one line
        raise ProvisioningError(f"backing up into {dest} failed: {exc}") from exc


def _back_up(sources: list[Path], dest: Path, name: str, keep: int, now: float | None, hub_database: Path | None,
             say: Callable[[str], None]) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted(set(_files(sources, dest)))
    if not files:
        raise ProvisioningError("nothing to back up: none of the folders given exists")
    need = sum(p.stat().st_size + _wal_size(p) for p in files)
    free = shutil.disk_usage(dest).free
    if need * HEADROOM > free:
        raise ProvisioningError(f"not enough room in {dest}: {free / 1e6:.1f} MB free, the backup needs about "
                                f"{need * HEADROOM / 1e6:.1f} MB")
    made = datetime.fromtimestamp(now if now is not None else datetime.now(UTC).timestamp(), UTC)
    final = dest / f"{PREFIX}{name}-{made.strftime('%Y%m%dT%H%M%SZ')}"
    if final.exists():
        raise ProvisioningError(f"{final} already exists (two backups in one second)")
    partial = dest / f".partial-{final.name}"
    shutil.rmtree(partial, ignore_errors=True)
    numbered = Path(hub_database).absolute() if hub_database is not None else None
    complete = False
    try:
        partial.mkdir(mode=0o700)
        entries = [{**_store(path, partial), "numbering": path == numbered} for path in files]
        manifest = {"format": FORMAT, "made": made.isoformat(timespec="seconds"), "host": socket.gethostname(),
                    "device": name, "files": entries}
        _write_synced(partial / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
        for folder, _, _ in os.walk(partial):
            _sync_dir(Path(folder))
        os.rename(partial, final)
        complete = True
    finally:
        if not complete:  # nothing half-written stays behind
            shutil.rmtree(partial, ignore_errors=True)
    _sync_dir(dest)
    for entry in entries:
        say(f"  {entry['path']}  {entry['bytes']:,} bytes{'  (database, checked)' if entry['database'] else ''}")
    if numbered is not None:  # for the hub (another user) to read, whatever root's umask: no secret in it
        staged = numbered.parent / f".{LAST_BACKUP}"
        staged.write_text(json.dumps({"at": made.timestamp(), "folder": str(final)}), encoding="utf-8")
        staged.chmod(0o644)
        staged.replace(numbered.parent / LAST_BACKUP)
    for old in backups(dest, name)[keep:]:
        shutil.rmtree(old)
        say(f"removed the older backup {old.name} (keeping {keep})")
    for stale in dest.glob(f".partial-{PREFIX}{name}-*"):  # one an earlier run never finished
        shutil.rmtree(stale, ignore_errors=True)
    say(f"backup {final}: {len(entries)} files, {sum(e['bytes'] for e in entries) / 1e6:.1f} MB")
    same = sorted({str(s) for s in sources if s.exists() and s.stat().st_dev == dest.stat().st_dev})
    if same:
        say(f"note: {dest} is on the same disk as {same[0]}: this backup dies with that card (use a USB stick, "
            f"another disk or a share; one not mounted leaves an empty folder on the card)")
    return final


def backups(dest: Path, name: str) -> list[Path]:
    """The complete backups of device `name` in `dest`, newest first."""
    return sorted((p for p in Path(dest).glob(f"{PREFIX}{name}-*") if (p / MANIFEST).is_file()), reverse=True)


def restore(backup: Path, root: Path = Path("/"), force: bool = False, say: Callable[[str], None] = print) -> int:
    """Puts every file of `backup` back where it was (under `root`: a new card's image, or a test), after checking
    every checksum: a backup with one file damaged or missing writes nothing. Refuses to replace files that exist
    unless `force` (stop the ward's services and mosquitto first). A database's leftover -wal and -shm are removed
    with it; beside the hub's, a note: its numbering then jumps ahead (numbers printed after the backup are not in
    it). On this machine as root, each file gets its recorded owner (the `motcua` user is made if missing).
    Returns how many files it placed."""
    backup, root = Path(backup), Path(root)
    manifest = _checked(backup)
    entries = manifest["files"]
    targets = [(entry, root / PurePosixPath(entry["path"]).relative_to("/")) for entry in entries]
    present = [str(t) for _, t in targets if t.exists()]
    if present and not force:
        raise ProvisioningError(f"{len(present)} file(s) already exist, e.g. {present[0]}: restore onto a new card, "
                                f"or stop motcua and mosquitto and add --force")
    live = root.resolve() == Path("/")
    if live and os.geteuid() == 0 and any(e["owner"] == "motcua" or e["group"] == "motcua" for e in entries):
        from provisioning.install import service_user

        service_user(say)
    placed = 0
    try:
        for entry, target in targets:
            _place(backup / entry["stored"], target, entry, live, say)
            if entry.get("numbering") is True:  # the hub's first start: numbers printed after the backup are not in it
                leave_restored_note(target, backup.name, manifest.get("made"))
            placed += 1
    except OSError as exc:
        raise ProvisioningError(f"restoring stopped after {placed} of {len(entries)} files: {exc}; fix that and run "
                                f"it again with --force") from exc
    say(f"restored {len(entries)} files from {backup.name}"
        + ("" if live else f" under {root} (no owners changed: set them on the device)"))
    hub = next((e["path"] for e in entries if PurePosixPath(e["path"]).name == f"{manifest.get('device')}.toml"), None)
    if hub is not None:
        say(f"next, as root: motcua install --config {hub}; systemctl restart mosquitto; then motcua install each "
            f"other service this machine ran (its console, its notifier) from {PurePosixPath(hub).parent}")
    return len(entries)


def _place(copy: Path, target: Path, entry: dict[str, Any], live: bool, say: Callable[[str], None]) -> None:
    """One file put back whole (staged beside its place, then renamed), with its mode and, as root, its owner."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if entry["database"]:
        for suffix in LEFT_OUT_SUFFIXES:  # a stale WAL beside another database's file would damage it
            Path(f"{target}{suffix}").unlink(missing_ok=True)
    staged = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(copy, staged)
    os.chmod(staged, entry["mode"])
    if live and os.geteuid() == 0:
        _chown(staged, entry, say)
    os.replace(staged, target)
    say(f"  {target}")


# -- the parts -------------------------------------------------------------------------------------------------------
def _files(sources: list[Path], dest: Path) -> Iterator[Path]:
    dest = dest.resolve()
    for source in sources:
        if source.is_file():
            yield source.absolute()
            continue
        for folder, dirs, names in os.walk(source):
            here = Path(folder).absolute()
            dirs[:] = [d for d in dirs if d not in LEFT_OUT_DIRS and (here / d).resolve() != dest
                       and not d.startswith((PREFIX, f".partial-{PREFIX}"))]
            for n in names:
                path = here / n
                if path.is_file() and not path.is_symlink() and not n.endswith(LEFT_OUT_SUFFIXES) \
                        and ".damaged-" not in n and not n.endswith(".restoring"):
                    yield path


def _wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _is_database(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _store(path: Path, partial: Path) -> dict[str, Any]:
    stored = PurePosixPath("files") / PurePosixPath(path.as_posix()).relative_to("/")
    target = partial / stored
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = _is_database(path)
    if database:
        _copy_database(path, target)
    else:
        shutil.copyfile(path, target)
    os.chmod(target, 0o600)
    _fsync(target)
    st = path.stat()
    return {"path": path.as_posix(), "stored": stored.as_posix(), "sha256": _sha256(target),
            "bytes": target.stat().st_size, "mode": st.st_mode & 0o7777, "owner": _user(st.st_uid),
            "group": _group(st.st_gid), "database": database}


def _copy_database(path: Path, target: Path) -> None:
    """One consistent copy, whatever its service writes meanwhile (a WAL reader never waits for the writer), as a
    single file (rollback journal mode: each service turns WAL back on when it opens it)."""
    try:
        source = sqlite3.connect(path, timeout=30)  # reads only (read-only would need the -shm to exist)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
    except sqlite3.Error as exc:
        raise ProvisioningError(f"{path} could not be read ({exc}); nothing was backed up — its service repairs it "
                                f"when it restarts (docs/deploy.md, section 7)") from exc
    if verdict != "ok":
        raise ProvisioningError(f"{path} reads as damaged ({verdict}); nothing was backed up — restart its service "
                                f"to repair it, then back up again")


def _checked(backup: Path) -> dict[str, Any]:
    """The manifest once every file matches its checksum; else an error naming what is wrong."""
    try:
        manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvisioningError(f"{backup} is not a motcua backup (no {MANIFEST}); a backup cut short has "
                                f"none") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProvisioningError(f"{backup / MANIFEST} is damaged: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or not isinstance(manifest.get("files"), list):
        raise ProvisioningError(f"{backup / MANIFEST}: not a backup this motcua can read (format {FORMAT})")
    if not manifest["files"]:
        raise ProvisioningError(f"{backup / MANIFEST} lists no files")
    keys = {"path": str, "stored": str, "sha256": str, "bytes": int, "mode": int, "owner": str, "group": str,
            "database": bool}
    bad: list[str] = []
    for i, entry in enumerate(manifest["files"]):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), t) for k, t in keys.items()) \
                or not 0 <= entry["mode"] <= 0o7777:
            raise ProvisioningError(f"{backup / MANIFEST}: file entry {i} is malformed")
        place, stored = PurePosixPath(entry["path"]), PurePosixPath(entry["stored"])
        if not place.is_absolute() or ".." in place.parts or stored.is_absolute() or ".." in stored.parts:
            raise ProvisioningError(f"{backup / MANIFEST}: file entry {i} points outside its places")
        copy = backup / stored
        if not copy.is_file():
            bad.append(f"{entry['path']} (missing)")
        elif _sha256(copy) != entry["sha256"]:
            bad.append(f"{entry['path']} (checksum differs)")
    if bad:
        raise ProvisioningError(f"{backup} is damaged, nothing was restored: {', '.join(bad[:5])}"
                                + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""))
    return manifest


def _chown(path: Path, entry: dict[str, Any], say: Callable[[str], None]) -> None:
    try:
        shutil.chown(path, user=entry["owner"], group=entry["group"])
    except (LookupError, OSError) as exc:
        say(f"  {entry['path']}: owner {entry['owner']}:{entry['group']} not set here ({exc}); left to root")


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)
    _fsync(path)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
