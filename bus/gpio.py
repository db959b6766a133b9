# A device's GPIO pins through gpiozero: a board with no pin library for it, or a pin it cannot have, said in one line.
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bus.errors import GpioUnavailable

INSTALL = ("on Raspberry Pi OS install the Debian package python3-lgpio and let motcua's venv see it (made with "
           "`python3 -m venv --system-site-packages`, as `./run` and `motcua image prepare` make it on a Pi): "
           "docs/deploy.md")


@contextmanager
def pins(part: str) -> Iterator[None]:
    """Around the making of `part`'s gpiozero buttons and LEDs: gpiozero's errors become GpioUnavailable naming the
    part — with no pin library for the board (a Raspberry Pi 5 without lgpio), what to install."""
    from gpiozero.exc import BadPinFactory, GPIOZeroError

    try:
        yield
    except BadPinFactory as exc:
        raise GpioUnavailable(f"{part}: no GPIO pin library for this board ({exc}); {INSTALL}") from None
    except GPIOZeroError as exc:
        raise GpioUnavailable(f"{part}: {type(exc).__name__}: {exc}") from None
