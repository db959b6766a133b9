# Releases for fleet updates: motcua's wheel (and any dependency's) with a manifest of checksums, offered by the hub.
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bus.messages import SCHEMA_VERSION
from bus.update import MANIFEST, VERSION_RE
from provisioning.errors import ProvisioningError

SOURCE = Path(__file__).resolve().parent.parent  # the source tree this motcua was installed from
SKIP = (".venv", ".git", "build", "demo-ward", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache",
        ".hypothesis")


def build_wheel(source: str | Path, out: str | Path, version: str | None = None,
                edit: Callable[[Path], None] | None = None) -> Path:
    """Builds motcua's wheel from `source` into `out`; with `version`, from a copy whose pyproject says that
    version (and which `edit` may change further: a test's deliberately broken release). Returns the wheel."""
    source, out = Path(source), Path(out)
    if not (source / "pyproject.toml").is_file():
        raise ProvisioningError(f"{source} is not motcua's source (no pyproject.toml): give --source, a checkout")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="motcua-build-") as tmp:
        tree = Path(tmp) / "src"
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(*SKIP))
        if version is not None:
            if not re.fullmatch(VERSION_RE, version):
                raise ProvisioningError(f"{version!r} is not a release version")
            pyproject = tree / "pyproject.toml"
            text = re.sub(r'(?m)^version = "[^"]*"$', f'version = "{version}"', pyproject.read_text("utf-8"), count=1)
            pyproject.write_text(text, encoding="utf-8")
        if edit is not None:
            edit(tree)
        before = set(out.glob("*.whl"))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--no-build-isolation",
                               "--disable-pip-version-check", "-w", str(out), str(tree)],
                              capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise ProvisioningError(f"building the wheel failed: {(done.stderr or done.stdout).strip()[-800:]}")
    made = sorted(set(out.glob("motcua-*.whl")) - before) or sorted(out.glob("motcua-*.whl"))
    return made[-1]


def dependency_wheels(out: Path) -> None:
    """Every dependency's wheel, for a card or a ward without internet (needs the package index once)."""
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "-w",
                           str(out), str(SOURCE)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise ProvisioningError(f"fetching the dependencies' wheels failed: {(done.stderr or done.stdout)[-800:]}")


def write_manifest(folder: str | Path) -> tuple[str, str]:
    """Writes folder/release.json listing every wheel with its SHA-256; returns (version, the manifest's SHA-256,
    which ward IT's update command carries to the devices)."""
    folder = Path(folder)
    wheels = sorted(folder.glob("*.whl"))
    ours = [w for w in wheels if w.name.startswith("motcua-")]
    if len(ours) != 1:
        raise ProvisioningError(f"{folder} must hold exactly one motcua wheel, found {len(ours)}")
    version = ours[0].name.split("-")[1]
    files = [{"name": w.name, "sha256": hashlib.sha256(w.read_bytes()).hexdigest(), "size": w.stat().st_size}
             for w in wheels]
    data = json.dumps({"version": version, "contract": SCHEMA_VERSION, "files": files}, indent=1).encode()
    (folder / MANIFEST).write_bytes(data)
    return version, hashlib.sha256(data).hexdigest()


def read_manifest(folder: str | Path) -> tuple[dict, str]:
    """A release folder's manifest and its SHA-256, after checking every file it lists is there and intact."""
    folder = Path(folder)
    try:
        raw = (folder / MANIFEST).read_bytes()
        manifest = json.loads(raw)
        files = manifest["files"]
    except (OSError, ValueError, KeyError) as exc:
        raise ProvisioningError(f"{folder}: no readable {MANIFEST} ({exc})") from None
    for f in files:
        path = folder / str(f["name"])
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            raise ProvisioningError(f"{path} is missing or does not match its checksum in {MANIFEST}")
    return manifest, hashlib.sha256(raw).hexdigest()


def build(out: str | Path, with_deps: bool = False, source: str | Path = SOURCE,
          say: Callable[[str], None] = print) -> tuple[str, str]:
    """`motcua release build`: the wheel (and with `with_deps` every dependency's), then the manifest."""
    out = Path(out)
    wheel = build_wheel(source, out)
    say(f"built {wheel.name}")
    if with_deps:
        dependency_wheels(out)
    version, digest = write_manifest(out)
    say(f"release {version} in {out}: {len(list(out.glob('*.whl')))} wheel(s), manifest sha256 {digest}")
    return version, digest


def offer(release: str | Path, offered_dir: str | Path, say: Callable[[str], None] = print) -> tuple[str, str]:
    """`motcua fleet offer`: checks a release folder and copies it where the hub serves releases from
    (DATA/offered/<version>/). Returns its version and manifest SHA-256."""
    manifest, digest = read_manifest(release)
    version = str(manifest.get("version", ""))
    if not re.fullmatch(VERSION_RE, version):
        raise ProvisioningError(f"{release}: the manifest names no release version")
    target = Path(offered_dir) / version
    staged = target.with_name(version + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for f in [*manifest["files"], {"name": MANIFEST}]:
        shutil.copyfile(Path(release) / f["name"], staged / f["name"])
        (staged / f["name"]).chmod(0o644)
    shutil.rmtree(target, ignore_errors=True)
    staged.replace(target)
    say(f"offering {version} (contract {manifest.get('contract')}); manifest sha256 {digest}")
    return version, digest
