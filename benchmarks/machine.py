"""Facts about the machine and the process that every benchmark number is reported next to."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sys


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("model name", "Model", "Hardware")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The ISA flags the kernels care about (VNNI, AVX-512, dot product), from /proc/cpuinfo (the same reader as the
    profile-driven export's `device_profiles.host_isa`)."""
    from vox_edge.device_profiles.kernels import cpuinfo_flags

    wanted = {"avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "asimddp", "i8mm", "sve"}
    return sorted(wanted & cpuinfo_flags())


def mem_total_mb() -> float | None:
    return _proc_status_kb("/proc/meminfo", "MemTotal") / 1024 if os.path.exists("/proc/meminfo") else None


def _proc_status_kb(path: str, key: str) -> float:
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def rss_mb() -> dict[str, float]:
    """Peak and current (VmRSS) resident memory of this process, in MiB.

    peak_rss_mb is VmHWM where /proc has it, else ru_maxrss. ru_maxrss alone misleads in a child process:
    Linux carries the parent's high-water mark across fork+exec, so a bench started by a big exporter
    process would report the exporter's peak. Both are kept.
    """
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # macOS reports bytes
        maxrss_kb /= 1024
    hwm_kb = _proc_status_kb("/proc/self/status", "VmHWM")
    peak_kb = hwm_kb if hwm_kb == hwm_kb else maxrss_kb  # NaN check: no /proc
    return {"peak_rss_mb": peak_kb / 1024, "ru_maxrss_mb": maxrss_kb / 1024,
            "current_rss_mb": _proc_status_kb("/proc/self/status", "VmRSS") / 1024}


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_info() -> dict:
    import numpy as np
    import onnxruntime as ort

    import vox_edge

    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "cores_usable": affinity,
        "mem_total_mb": mem_total_mb(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": ort.__version__,
        "vox_edge": vox_edge.__version__,
        "loadavg": loadavg(),
    }
