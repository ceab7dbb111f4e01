"""Sessions on an NPU execution provider, whether the provider is built into onnxruntime or a plugin wheel.

Plugin EPs (onnxruntime >= 1.23) are shared libraries that a wheel ships beside the standard `onnxruntime`:
  QNNExecutionProvider       pip install onnxruntime-qnn          (Qualcomm HTP; on x86-64 Linux the HTP simulator)
  OpenVINOExecutionProvider  pip install onnxruntime-ep-openvino  (Intel CPU / GPU / NPU; it offers devices only on
                             Intel hardware) or the whole-runtime build `onnxruntime-openvino` (replaces onnxruntime)
A plugin is registered once per process, then added to a session through one of the devices it offers.
`strict` disables the CPU fallback: the session then fails to start unless the provider takes every node.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

import onnxruntime as ort

from vox_edge.errors import ProviderError

# provider -> (plugin module, pip package)
PLUGINS = {
    "QNNExecutionProvider": ("onnxruntime_qnn", "onnxruntime-qnn"),
    "OpenVINOExecutionProvider": ("onnxruntime_ep_openvino", "onnxruntime-ep-openvino (or onnxruntime-openvino)"),
}
_registered: set[str] = set()


def plugin_module(provider: str) -> Any | None:
    """The plugin wheel's module, or None when it is not installed."""
    name = PLUGINS.get(provider, (None,))[0]
    if name is None:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def default_options(provider: str) -> dict[str, str]:
    """Provider options that make a session start here; a profile's options are laid over them."""
    if provider == "QNNExecutionProvider":
        mod = plugin_module(provider)
        opts = {"backend_path": mod.get_qnn_htp_path() if mod else ("QnnHtp.dll" if sys.platform == "win32"
                                                                        else "libQnnHtp.so")}
        if sys.platform.startswith("linux") and platform.machine() == "x86_64":
            # the x86-64 HTP backend is a simulator: it needs a SoC to model (60: Snapdragon X Elite, HTP v73)
            opts["soc_model"] = "60"
        return opts
    if provider == "OpenVINOExecutionProvider":
        return {"device_type": "CPU"}
    return {}


def _devices(provider: str) -> list[Any]:
    if provider not in _registered:
        mod = plugin_module(provider)
        if mod is not None:
            try:
                ort.register_execution_provider_library(provider, mod.get_library_path())
            except Exception as e:  # noqa: BLE001 - already registered by someone else in this process is fine
                if "already" not in str(e).lower():
                    raise ProviderError(f"{provider}: registering {PLUGINS[provider][1]} failed ({e}); reinstall it "
                                        "in this environment.") from None
            _registered.add(provider)
    return [d for d in ort.get_ep_devices() if d.ep_name == provider]


def available(provider: str) -> bool:
    return provider in ort.get_available_providers() or bool(plugin_module(provider) and _devices(provider))


def default_context_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vox-edge" / "npu-context"


# A compiled graph embedded in its EPContext model shares protobuf's 2 GB cap, so a graph whose weights approach it
# (the 4B backbone's QDQ graph: 3.3 GB) keeps its context binary in a file beside the EPContext model instead.
EMBED_CONTEXT_MAX_BYTES = 1 << 30


def graph_bytes(path: Path) -> int:
    """The graph file plus the external-data files beside it that carry its name (`<file>.data`, ...)."""
    path = Path(path)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def context_cache_file(path: Path, provider: str, options: dict[str, str], cache_dir: Path) -> Path:
    """Where the provider's compiled form of `path` is kept: keyed by the graph file (path, size, mtime), the
    provider, its options and the onnxruntime version, so any change compiles afresh."""
    st = Path(path).stat()
    key = f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}|{provider}|{sorted(options.items())}|{ort.__version__}"
    return cache_dir / f"{Path(path).stem}.{hashlib.sha256(key.encode()).hexdigest()[:16]}.ctx.onnx"


def accelerator_session(path: Path, provider: str, options: dict[str, str] | None = None, strict: bool = True,
                        record_placement: bool = True, threads: int = 1,
                        context_cache: Path | None = None) -> ort.InferenceSession:
    """A session of `path` on `provider` (built-in or plugin), CPU fallback disabled when `strict`.

    context_cache: a folder for the provider's compiled graph (ORT's EPContext model: for QNN the HTP context
    binary, embedded in it, or beside it for a graph over EMBED_CONTEXT_MAX_BYTES). The first session compiles and
    writes it; later ones load it instead of compiling again (tiny flow graph on the HTP simulator: 1.9 s -> 0.2 s)."""
    opts = {**default_options(provider), **(options or {})}
    if context_cache is not None:
        ctx = context_cache_file(Path(path), provider, opts, Path(context_cache))
        if ctx.is_file():
            try:
                return accelerator_session(ctx, provider, options, strict, record_placement, threads)
            except Exception:  # noqa: BLE001 - a stale or damaged cache entry: compile again below
                ctx.unlink(missing_ok=True)
        ctx.parent.mkdir(parents=True, exist_ok=True)
    so = ort.SessionOptions()
    if context_cache is not None:
        so.add_session_config_entry("ep.context_enable", "1")
        embed = graph_bytes(Path(path)) <= EMBED_CONTEXT_MAX_BYTES
        so.add_session_config_entry("ep.context_embed_mode", "1" if embed else "0")
        so.add_session_config_entry("ep.context_file_path", os.fspath(ctx))
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    if strict:
        so.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    if record_placement:
        so.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    devices = _devices(provider) if plugin_module(provider) else []
    if not devices and provider in ort.get_available_providers():  # built in (e.g. onnxruntime-openvino)
        extra = [] if strict else ["CPUExecutionProvider"]
        return ort.InferenceSession(os.fspath(path), so, providers=[provider, *extra],
                                    provider_options=[opts, *({} for _ in extra)])
    if not devices:
        pkg = PLUGINS.get(provider, (None, "an onnxruntime build that includes it"))[1]
        why = "offers no device on this machine" if plugin_module(provider) else "is not installed"
        raise ProviderError(f"{provider} {why} (onnxruntime {ort.__version__}). To use it: pip install {pkg}"
                            f"{' on hardware it supports' if plugin_module(provider) else ''}.")
    so.add_provider_for_devices(devices[:1], opts)
    return ort.InferenceSession(os.fspath(path), so)
