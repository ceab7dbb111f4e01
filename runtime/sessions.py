"""ONNX Runtime sessions set up from a device profile: execution providers, threads, graph optimisation, arena.

A profile lists providers in priority order (always ending with CPU). A provider this onnxruntime build
lacks is dropped with a `ProviderFallbackWarning` that names the package to install; if creating the session
with an accelerator fails anyway (missing CUDA / driver libraries are only found at that point), the
session is opened again on CPU, with the same warning. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses

import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnxruntime as ort

from vox_edge.errors import ManifestError

CPU = "CPUExecutionProvider"
SPINNING = "session.intra_op.allow_spinning"  # session config key: worker threads busy-wait between ops
_OPT_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}
# What to install when a provider is missing from this onnxruntime build.
_INSTALL_HINT = {
    "CUDAExecutionProvider": "pip install onnxruntime-gpu (and a matching CUDA/cuDNN)",
    "TensorrtExecutionProvider": "pip install onnxruntime-gpu with TensorRT libraries on the library path",
    "OpenVINOExecutionProvider": "pip install onnxruntime-openvino",
    "QNNExecutionProvider": "pip install onnxruntime-qnn (Qualcomm QNN SDK)",
    "CoreMLExecutionProvider": "the standard onnxruntime wheel on macOS",
}


class ProviderFallbackWarning(UserWarning):
    """A requested execution provider is unavailable or failed; the graph runs on CPU instead."""


def _default_provider_options(name: str) -> dict[str, str]:
    from .npu_providers import default_options  # QNN's backend library (and its simulator's SoC on x86-64 Linux)

    return default_options(name)


@dataclass(frozen=True)
class SessionSettings:
    """How every graph of a bundle is run. The defaults are plain CPU with onnxruntime's thread choice."""

    providers: tuple[str, ...] = (CPU,)
    intra_op_threads: int = 0  # 0 = default_intra_op_threads(): 1 on a machine of <= 2 cores, else ORT's choice
    inter_op_threads: int = 1  # the graphs are sequential chains; more inter-op threads only add overhead
    graph_optimization_level: str = "all"
    enable_mem_arena: bool = True
    # Spinning worker threads burn a core between ops; on a shared CPU (a head unit runs other software; our
    # 2-core VM) measured 2-thread 4B INT4 steps went 383 -> 272 ms with spinning off (benchmarks/RESULTS.md).
    allow_spinning: bool = False
    provider_options: dict[str, dict[str, str]] = field(default_factory=dict)
    # NPU profiles: graphs kept on the CPU on purpose (graph -> reason), and a folder for the provider's compiled
    # graphs (QNN context binaries: a session then loads in a fraction of the compile time); None = compile each time.
    cpu_graphs: dict[str, str] = field(default_factory=dict)
    context_cache: Path | None = None

    @classmethod
    def from_profile(cls, profile: Any | None) -> "SessionSettings":
        """From a `vox_edge.device_profiles.DeviceProfile` (its `.runtime` table), or CPU defaults for None."""
        if profile is None:
            return cls()
        rt = profile.runtime
        return cls(
            providers=tuple(rt.execution_providers),
            intra_op_threads=int(rt.intra_op_threads),
            inter_op_threads=int(rt.inter_op_threads),
            graph_optimization_level=str(rt.graph_optimization_level),
            enable_mem_arena=bool(rt.enable_mem_arena),
            provider_options={k: dict(v) for k, v in getattr(rt, "provider_options", {}).items()},
            cpu_graphs=dict(getattr(rt, "cpu_graphs", {})),
            context_cache=_context_cache() if getattr(rt, "npu_target", None) else None,
        )


def resolve_providers(requested: tuple[str, ...], available: list[str] | None = None) -> list[str]:
    """Requested providers that this onnxruntime has, in order, CPU always last; warns about the rest."""
    available = list(ort.get_available_providers()) if available is None else available
    out: list[str] = []
    for name in requested:
        if name == CPU or name in out:
            continue
        if name in available:
            out.append(name)
        else:
            hint = _INSTALL_HINT.get(name, "an onnxruntime build that includes it")
            warnings.warn(f"{name} was requested but this onnxruntime ({ort.__version__}) does not provide it; "
                          f"running on CPU instead. To use it: {hint}.", ProviderFallbackWarning, stacklevel=3)
    return out + [CPU]


SMALL_MACHINE_CORES = 2  # at or below this many usable cores, the default is one intra-op thread


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_intra_op_threads(cores: int | None = None) -> int:
    """intra_op_threads = 0 resolved: 1 on a machine of <= 2 usable cores, else 0 (onnxruntime's own choice, one
    per physical core). On 2 cores, two threads share each op's barrier with the NumPy glue, audio output and
    whatever else runs: with another process busy on the machine (2-core EPYC, VNNI class, 2026-12-07) the
    packaged voice was 1.37x and the v2 voice 1.24x slower at ORT's 2 threads than at 1 (benchmarks/RESULTS.md).
    One thread is by construction never slower than one thread; a profile's intra_op_threads still overrides it."""
    cores = usable_cores() if cores is None else cores
    return 1 if cores <= SMALL_MACHINE_CORES else 0


def session_options(s: SessionSettings) -> ort.SessionOptions:
    so = ort.SessionOptions()
    so.intra_op_num_threads = max(0, s.intra_op_threads) or default_intra_op_threads()
    so.inter_op_num_threads = max(0, s.inter_op_threads)
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = _OPT_LEVELS[s.graph_optimization_level]
    so.enable_cpu_mem_arena = s.enable_mem_arena
    so.enable_mem_pattern = s.enable_mem_arena
    so.add_session_config_entry(SPINNING, "1" if s.allow_spinning else "0")
    so.log_severity_level = 3  # errors only: ORT's own warnings (e.g. node placement) are noise for users
    return so


def _context_cache() -> Path:
    from .npu_providers import default_context_cache

    return default_context_cache()


def open_session(path: Path, settings: SessionSettings, graph: str | None = None) -> ort.InferenceSession:
    """One InferenceSession; falls back to CPU (with a warning) if an accelerator provider fails to start.
    `graph` (the manifest name) lets a profile keep that graph on the CPU (`cpu_graphs`)."""
    if not path.is_file():
        raise ManifestError(f"{path}: graph file missing. Copy the whole bundle directory again or re-export it.")
    if graph in settings.cpu_graphs:
        return open_session(path, dataclasses.replace(settings, providers=(CPU,), provider_options={}, cpu_graphs={}))
    from .npu_providers import PLUGINS, plugin_module

    plugin = next((p for p in settings.providers if p in PLUGINS and plugin_module(p) is not None), None)
    if plugin is not None:  # a plugin EP wheel (runtime/npu_providers.py); the CPU takes what it refuses
        from .npu_providers import accelerator_session

        try:
            return accelerator_session(path, plugin, settings.provider_options.get(plugin), strict=False,
                                       record_placement=False, threads=max(1, settings.intra_op_threads),
                                       context_cache=settings.context_cache)
        except Exception as e:  # noqa: BLE001 - no device, or the EP refuses the graph: CPU, as below
            warnings.warn(f"{plugin} failed to start for {path.name} ({type(e).__name__}: "
                          f"{str(e).splitlines()[0] if str(e) else ''}); running on CPU instead.",
                          ProviderFallbackWarning, stacklevel=2)
            return open_session(path, dataclasses.replace(settings, providers=(CPU,), provider_options={}))
    providers = resolve_providers(settings.providers)
    opts = [settings.provider_options.get(p, _default_provider_options(p)) for p in providers]
    so = session_options(settings)
    try:
        return ort.InferenceSession(os.fspath(path), sess_options=so, providers=providers, provider_options=opts)
    except Exception as e:  # noqa: BLE001 - any EP start-up failure means: try plain CPU
        if providers == [CPU]:
            raise ManifestError(f"{path}: onnxruntime cannot load this graph ({type(e).__name__}: {e}). "
                                "Re-export the bundle with this vox-edge version.") from None
        warnings.warn(f"{', '.join(providers[:-1])} failed to start for {path.name} ({type(e).__name__}: "
                      f"{str(e).splitlines()[0] if str(e) else ''}); running on CPU instead.",
                      ProviderFallbackWarning, stacklevel=2)
        return open_session(path, dataclasses.replace(settings, providers=(CPU,), provider_options={}))


def cpu_session(model: str | os.PathLike[str] | bytes, threads: int = 1, *, allow_spinning: bool = True,
                profile_prefix: str | None = None, config: dict[str, str] | None = None) -> ort.InferenceSession:
    """A plain CPU session for measuring and comparing graphs (quantisation reports, benchmarks, tests).

    `threads` intra-op threads, one inter-op thread, every graph optimisation; spinning stays onnxruntime's
    default (on) unless `allow_spinning` or a `config` entry turns it off. `profile_prefix` turns on ORT's
    per-op profiler; `config` adds session config entries. The engine's own sessions come from `open_session`.
    """
    entries = dict(config or {})
    spinning = entries.pop(SPINNING, "1" if allow_spinning else "0") == "1"
    so = session_options(SessionSettings(intra_op_threads=threads, allow_spinning=spinning))
    for key, value in entries.items():
        so.add_session_config_entry(key, value)
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return ort.InferenceSession(model if isinstance(model, bytes) else os.fspath(model), sess_options=so,
                                providers=[CPU])


def input_dtypes(sess: ort.InferenceSession) -> dict[str, str]:
    """Input name -> ORT type string (e.g. 'tensor(float)'), so callers feed what the graph was exported with."""
    return {i.name: i.type for i in sess.get_inputs()}
