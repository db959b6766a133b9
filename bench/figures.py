# Each bench's figures as data: written as JSON where `python -m bench.table` asks for them (MOTCUA_BENCH_FIGURES).
from __future__ import annotations

import compileall
import json
import os
from pathlib import Path
from typing import Any

ENV = "MOTCUA_BENCH_FIGURES"


def emit(figures: dict[str, Any]) -> None:
    """Hands this bench's figures (name -> number) to the table run that started it; nothing otherwise."""
    path = os.environ.get(ENV)
    if path:
        with open(path, "w", encoding="utf-8") as out:
            json.dump(figures, out)


def stolen_seconds() -> float:
    """CPU time the virtual machine's host has taken from this machine's cores so far (the `steal` column of
    /proc/stat, all cores summed); 0 where the kernel does not count it."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK") if len(fields) > 8 else 0.0


def as_installed() -> None:
    """Writes the bytecode of motcua's packages, as pip does when it installs the wheel, so a process a bench measures
    carries no compiler's leftovers: where bytecode is never written (PYTHONDONTWRITEBYTECODE, a read-only checkout)
    every start compiles each module again, about a megabyte of the hub's resident memory that a deployed hub does
    not have."""
    root = Path(__file__).resolve().parent.parent
    for package in sorted(root.iterdir()):
        if (package / "__init__.py").exists():
            compileall.compile_dir(package, quiet=1)
