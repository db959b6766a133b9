# Big short-lived buffers handed back to the system when freed (glibc), so a long-running process stays flat.
from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
BIG = 1 << 20  # buffers of this size or more get a mapping of their own, unmapped when freed


def return_big_buffers(threshold: int = BIG) -> bool:
    """Serves every buffer of `threshold` bytes or more from its own mapping, unmapped on free. Left alone, glibc
    raises that threshold to the largest buffer freed so far (up to 32 MiB); from then on such buffers come from the
    heap and stay resident after they are freed: each password check (argon2id, 19 MiB) would leave 19 MiB behind in
    every thread that made one. Returns False where the C library is not glibc (nothing is changed there)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        log.info("memory: no glibc mallopt here; big buffers are left to the C library")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
