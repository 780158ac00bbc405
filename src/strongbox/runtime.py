"""Process-wide tuning for the programs (the CLI and the server), never for library users.

- glibc gives every thread that contends on malloc its own arena, and the backup's reader,
  worker and uploader threads each churn 1 MiB buffers: arenas multiply and keep freed memory.
  Two arenas keep peak RSS ~60 MiB lower on the 1 GiB bench and cost nothing (less time in
  the kernel, measured). ``MALLOC_ARENA_MAX`` in the environment still wins.
- The GIL switch interval drops from 5 ms to 0.5 ms (``STRONGBOX_SWITCH_INTERVAL`` overrides,
  in seconds). The backup's threads release the GIL at every system call and at every hash,
  compression and encryption call, and with another thread running Python code each waits
  up to the interval to get it back; thousands of small files make that wait the cost that
  dominates. Measured on the ``bench/engine`` data set (2 cores, medians of interleaved
  runs): the 12,700 small files 1.27 s -> 1.07 s, the whole 1 GiB backup 4.22 s -> 3.80 s.
- Objects that exist once a program has started live as long as it does; ``gc.freeze()``
  keeps the cyclic collector from rescanning them at every full collection.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys

_M_ARENA_MAX = -8   # glibc's mallopt parameter number
ARENAS = 2
SWITCH_INTERVAL = 0.0005


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas; False where that is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def settle_after_startup() -> None:
    gc.freeze()
    sys.setswitchinterval(switch_interval())


def switch_interval() -> float:
    """The GIL switch interval to use: ``STRONGBOX_SWITCH_INTERVAL`` if it is a number of
    seconds from 0.0001 to 0.1, else ``SWITCH_INTERVAL``."""
    raw = os.environ.get("STRONGBOX_SWITCH_INTERVAL", "")
    try:
        value = float(raw) if raw else SWITCH_INTERVAL
    except ValueError:
        return SWITCH_INTERVAL
    return value if 0.0001 <= value <= 0.1 else SWITCH_INTERVAL
