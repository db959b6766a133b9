# Property-based fuzzing of every receiver (Hypothesis): valid, mutated and random payloads on every topic it reads.
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.fuzzrun import NAMES, Ward

EXAMPLES = 2000  # per receiver here; `python -m bench.fuzz` runs 100,000 (docs/reliability.md)
DRAWN = 700  # of them drawn by Hypothesis (the costly part, ~5 ms each), the rest edited copies of those


@pytest.fixture(scope="module")
def ward(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ward]:
    with Ward(Path(tmp_path_factory.mktemp("fuzz"))) as w:
        yield w


@pytest.mark.parametrize("name", NAMES)
def test_every_receiver_survives_every_payload_and_still_works(ward: Ward, name: str) -> None:
    """No traceback, every thread alive (the watchdog's view), and the receiver's real work done afterwards: the
    hub issues a ticket (and never a number twice), the board shows a real call, the kiosk prints, the rating
    keypad records a rating, the collector stores a record once."""
    result = ward.fuzz(name, EXAMPLES, DRAWN)
    assert result.run.payloads == EXAMPLES
    assert result.tracebacks == 0 and result.healthy and result.works, result
    assert result.rejected > EXAMPLES // 10
