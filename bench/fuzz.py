# Bench: the long fuzz run - 100,000 payloads at every receiver of a ward, with what each rejected and survived.
from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

from devkit.fuzzrun import HEADER, NAMES, Ward


def main() -> None:
    parser = argparse.ArgumentParser(description="Fuzz every receiver: a Hypothesis corpus, then its mutations.")
    parser.add_argument("--payloads", type=int, default=100_000, help="payloads per receiver")
    parser.add_argument("--corpus", type=int, default=5_000, help="payloads drawn by Hypothesis, then mutated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=NAMES, action="append", help="fuzz only these receivers")
    args = parser.parse_args()
    for name, value in (("SDL_VIDEODRIVER", "dummy"), ("SDL_AUDIODRIVER", "dummy"),
                        ("PYGAME_HIDE_SUPPORT_PROMPT", "1")):
        os.environ.setdefault(name, value)  # the screen devices draw into memory, as asked: no screen is missing
    logging.basicConfig(level=logging.ERROR)  # rejections are counted, not printed; tracebacks are counted too
    print(f"fuzz: {args.payloads:,} payloads per receiver ({args.corpus:,} drawn by Hypothesis, the rest their "
          f"mutations), seed {args.seed}; {platform.node()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    started = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory() as tmp, Ward(Path(tmp)) as ward:
        print(HEADER)
        for name in args.only or NAMES:
            result = ward.fuzz(name, args.payloads, args.corpus, seed=args.seed)
            results.append(result)
            print(result.row(), flush=True)
    print(f"total {sum(r.run.payloads for r in results):,} payloads in {time.monotonic() - started:.0f} s")
    if any(r.tracebacks or not r.healthy or not r.works for r in results):
        raise SystemExit("a receiver failed: see the table")


if __name__ == "__main__":
    main()
