"""Figures the benchmarks share: a nearest-rank percentile and a process's memory from /proc."""

from __future__ import annotations

import math
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (`q` in 0..1); nan for no values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


def proc_status_mb(pid: int, field_name: str) -> float:
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM, …) in MB; nan when it cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return math.nan
    for line in status.splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return math.nan
