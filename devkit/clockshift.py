# A process's wall clock moved by a file's number of seconds (devkit/clockshift.c, built here): clock jumps in tests.
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from devkit.errors import DevkitError

SOURCE = Path(__file__).with_name("clockshift.c")


class ClockShift:
    """The shim's library, built once into `folder`, and the file its processes read their offset from."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.library = folder / "libclockshift.so"
        self.file = folder / "clock-offset"
        self.set(0)
        if not self.library.exists() or self.library.stat().st_mtime < SOURCE.stat().st_mtime:
            cc = shutil.which("cc") or shutil.which("gcc")
            if cc is None:
                raise DevkitError("clock jumps need a C compiler (cc): ./run test installs one")
            subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(self.library), str(SOURCE), "-ldl"], check=True)

    def env(self) -> dict[str, str]:
        """What a process needs in its environment to follow the file."""
        return {"LD_PRELOAD": str(self.library), "MOTCUA_CLOCKSHIFT_FILE": str(self.file)}

    def set(self, seconds: float) -> None:
        """Every process started with `env()` sees its wall clock `seconds` off from now on (within 50 ms)."""
        tmp = self.file.with_suffix(".new")
        tmp.write_text(f"{seconds}\n", encoding="ascii")
        tmp.replace(self.file)
