"""Device profiles: what a board is, which model/precision it should run, how, and how fast it must be.

A profile is a TOML file shipped next to this module (``<name>.toml``) or any ``.toml`` on disk, loaded
into the frozen `DeviceProfile` below. It is pure data: the runtime turns it into ORT session options, the
benchmark compares its measurements with ``targets``. Every target carries a ``derivation`` string that
says where the number comes from (bandwidth roofline and peer numbers, ``docs/hardware.md``).

Only the standard library is used: the runtime imports this module and must stay lean.

Field semantics that other modules rely on:

* ``runtime.flow_steps`` is the number of Euler steps = velocity-network evaluations (NFE) per frame.
  Upstream's "8 steps" means 8 time points = 7 evaluations, i.e. ``flow_steps = 7``. It is a speed preference:
  a bundle whose manifest declares ``synthesis.min_flow_steps`` (the fewest steps its model was measured to need)
  has the profile's value raised to that floor; only a per-call ``flow_steps`` runs below it (docs/bundle.md#synthesis).
* ``runtime.cfg_alpha`` (optional): v = alpha * v_cond + (1 - alpha) * v_uncond; 1.0 disables guidance. Absent =
  the bundle's own default (its manifest's ``synthesis``), else the reference's 1.2: guidance strength is a
  property of the model, so a profile sets it only to override the model on that device.
* ``runtime.first_chunk_frames`` is the first codec chunk (small, for time-to-first-audio); later chunks double
  (so a stream never runs dry while RTF < 0.5) up to ``runtime.chunk_frames``, the steady-state chunk. Each chunk
  is decoded with ``runtime.codec_left_context_frames`` frames of left context; leave it out and the engine uses
  the bundle codec's receptive field (the fewest frames that make chunked audio equal one-shot audio).
* ``runtime.static_shapes``: keep every graph input at a fixed shape (KV buffer of ``max_context``,
  fixed codec chunk shapes), as NPU EPs (QNN, CoreML) need.
* ``runtime.execution_providers`` is in ORT priority order and always ends with CPUExecutionProvider,
  which takes whatever the accelerator EP does not support.
* ``model.kernels`` (optional ``[[model.kernels]]``): the export specs per CPU class and why (kernels.py); the entry
  for the profile's own ``hardware.isa`` must have ``model.precision``'s precisions. ``vox-edge export --profile``.
* ``targets.*.value`` units: ``ttfa_ms_*`` milliseconds, ``rtf`` compute time / audio time (< 1 is
  faster than real time), ``peak_rss_mb`` MiB of process peak resident memory.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import platform
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, NoReturn

from vox_edge.config import CFG_ALPHA_RANGE, MAX_AUDIO_SECONDS_RANGE, MAX_FLOW_STEPS, SILENCE_STOP_SECONDS_RANGE
from vox_edge.errors import ProfileError

from .kernels import KernelChoice, choose, host_isa, parse_kernels
from .tables import NPU_TARGETS, FrozenTable, string_tables
from vox_edge.manifest import COMPONENTS, PRECISIONS  # the bundle contract's names, one table

__all__ = [
    "ARCHES",
    "DeviceProfile",
    "EXECUTION_PROVIDERS",
    "GRAPH_OPTIMIZATION_LEVELS",
    "Hardware",
    "ISA_FEATURES",
    "KernelChoice",
    "MODELS",
    "ModelSpec",
    "PRECISIONS",
    "Precision",
    "RuntimeSettings",
    "SCHEMA_VERSION",
    "Target",
    "Targets",
    "choose",
    "host_isa",
    "host_profile",
    "host_profile_name",
    "list_profiles",
    "load_profile",
    "parse_profile",
]

SCHEMA_VERSION = 1

MODELS = ("voxtral-4b", "vox-edge-small")
EXECUTION_PROVIDERS = (
    "CPUExecutionProvider",
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "OpenVINOExecutionProvider",
    "QNNExecutionProvider",
    "CoreMLExecutionProvider",
)
GRAPH_OPTIMIZATION_LEVELS = ("disable", "basic", "extended", "all")
ARCHES = ("x86_64", "aarch64")
# ISA features per architecture; the split catches an x86 flag pasted into an Arm profile.
ISA_FEATURES = {
    "aarch64": ("neon", "neon_dotprod", "neon_fp16", "i8mm", "sve", "sve2", "sme"),
    "x86_64": ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx"),
}
TARGET_NAMES = ("ttfa_ms_p50", "ttfa_ms_p95", "rtf", "peak_rss_mb")

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_REQUIRED = object()


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Hardware:
    cpu: str
    arch: str  # one of ARCHES
    cores: int
    isa: tuple[str, ...]  # subset of ISA_FEATURES[arch]; test with `"neon_dotprod" in hw.isa`
    memory_gb: float
    memory_bandwidth_gbs: float  # the figure the targets were derived from (peak or measured, see source)
    memory_bandwidth_source: str
    accelerator: str | None = None


@dataclass(frozen=True)
class Precision:
    backbone: str
    acoustic: str
    codec: str


@dataclass(frozen=True)
class ModelSpec:
    name: str  # one of MODELS
    precision: Precision
    int4_block_size: int = 32  # MatMulNBits block; only meaningful where a component is int4
    kernels: tuple[KernelChoice, ...] = ()  # export specs per CPU class, first match wins (kernels.py); () = derived


@dataclass(frozen=True)
class RuntimeSettings:
    execution_providers: tuple[str, ...]
    intra_op_threads: int
    inter_op_threads: int
    graph_optimization_level: str  # one of GRAPH_OPTIMIZATION_LEVELS
    enable_mem_arena: bool
    flow_steps: int
    first_chunk_frames: int
    chunk_frames: int
    static_shapes: bool
    max_context: int
    cfg_alpha: float | None = None  # None = the bundle's own default (manifest `synthesis`), else 1.2
    codec_left_context_frames: int | None = None  # None: the bundle's codec receptive field (exact, fewest)
    max_audio_seconds: float | None = None  # ceiling of a request's audio budget; None = vox_edge.config's default
    silence_stop_seconds: float | None = None  # codec silence that ends a segment; None = default, 0 = off
    lexicon: str | None = None  # a user lexicon TSV for every request (docs/text.md); a request's own one wins
    # NPU profiles: the bundle target they run (`vox-edge export --target`), options per provider (QNN: HTP performance
    # mode, context-binary cache; OpenVINO: device_type), and graphs placed on the CPU on purpose: graph -> reason.
    npu_target: str | None = None
    provider_options: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=lambda: FrozenTable())
    cpu_graphs: Mapping[str, str] = dataclasses.field(default_factory=lambda: FrozenTable())


@dataclass(frozen=True)
class Target:
    value: float
    derivation: str


@dataclass(frozen=True)
class Targets:
    ttfa_ms_p50: Target
    ttfa_ms_p95: Target
    rtf: Target
    peak_rss_mb: Target


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    description: str
    hardware: Hardware
    model: ModelSpec
    runtime: RuntimeSettings
    targets: Targets
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The profile in the TOML layout (lists, not tuples); `parse_profile` reads it back."""

        def plain(x: Any) -> Any:
            if isinstance(x, tuple):
                return [plain(v) for v in x]
            if isinstance(x, dict):
                # TOML has no null: an absent accelerator is an absent key.
                return {k: plain(v) for k, v in x.items() if v is not None}
            return x

        return plain(dataclasses.asdict(self))

    def with_runtime(self, **changes: Any) -> "DeviceProfile":
        """A copy with runtime settings changed (e.g. a CLI ``--flow-steps``), validated like a file."""
        data = self.to_dict()
        for key, value in changes.items():
            data["runtime"][key] = list(value) if isinstance(value, tuple) else value
        return parse_profile(data, source=f"profile {self.name!r} with overrides")


# --------------------------------------------------------------------------- validation helpers


class _Reader:
    """Typed access to one TOML table; every error names the dotted field path.

    Unknown keys are rejected up front (typo protection), so ``flow_step = 3`` is reported as the
    unknown key it is, with a suggestion, rather than as a missing ``flow_steps``.
    """

    def __init__(self, table: Any, path: str, source: str, keys: tuple[str, ...]):
        self.path = path
        self.source = source
        if not isinstance(table, dict):
            self.fail(path or "<top level>", f"must be a table, got {_type_name(table)}")
        self.table = table
        for key in sorted(set(table) - set(keys)):
            self.fail(self.field(key), f"is not a known field; {_hint(key, keys)}allowed here: {', '.join(keys)}")

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, field: str, message: str) -> NoReturn:
        raise ProfileError(f"{self.source}: {field} {message}")

    def raw(self, key: str, default: Any = _REQUIRED) -> Any:
        if key not in self.table:
            if default is _REQUIRED:
                self.fail(self.field(key), "is missing (required)")
            return default
        return self.table[key]

    def string(self, key: str, *, choices: tuple[str, ...] | None = None, default: Any = _REQUIRED) -> Any:
        v = self.raw(key, default)
        if v is default and default is not _REQUIRED:
            return v
        if not isinstance(v, str):
            self.fail(self.field(key), f"must be a string, got {_type_name(v)}")
        if choices is not None and v not in choices:
            self.fail(self.field(key), f"is {v!r}; {_hint(v, choices)}allowed: {', '.join(choices)}")
        if choices is None and not v.strip():
            self.fail(self.field(key), "must not be empty")
        return v

    def integer(self, key: str, *, lo: int, hi: int, default: Any = _REQUIRED) -> int | None:
        v = self.raw(key, default)
        if v is None and default is None:  # optional and absent
            return None
        # bool is an int subclass in Python; `flow_steps = true` must not pass as 1.
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(self.field(key), f"must be an integer, got {_type_name(v)}")
        if not lo <= v <= hi:
            self.fail(self.field(key), f"is {v}; allowed: an integer in [{lo}, {hi}]")
        return v

    def number(self, key: str, *, lo: float, hi: float, lo_open: bool = False,
               default: Any = _REQUIRED) -> float | None:
        v = self.raw(key, default)
        if v is None and default is None:  # optional and absent
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(self.field(key), f"must be a number, got {_type_name(v)}")
        v = float(v)
        too_low = v <= lo if lo_open else v < lo
        if not math.isfinite(v) or too_low or v > hi:
            bracket = "(" if lo_open else "["
            self.fail(self.field(key), f"is {v:g}; allowed: a number in {bracket}{lo:g}, {hi:g}]")
        return v

    def boolean(self, key: str) -> bool:
        v = self.raw(key)
        if not isinstance(v, bool):
            self.fail(self.field(key), f"must be true or false, got {_type_name(v)}")
        return v

    def string_list(self, key: str, *, choices: tuple[str, ...], allow_empty: bool) -> tuple[str, ...]:
        v = self.raw(key)
        if not isinstance(v, list):
            self.fail(self.field(key), f"must be a list of strings, got {_type_name(v)}")
        if not v and not allow_empty:
            self.fail(self.field(key), f"must not be empty; allowed items: {', '.join(choices)}")
        for i, item in enumerate(v):
            where = f"{self.field(key)}[{i}]"
            if not isinstance(item, str):
                self.fail(where, f"must be a string, got {_type_name(item)}")
            if item not in choices:
                self.fail(where, f"is {item!r}; {_hint(item, choices)}allowed: {', '.join(choices)}")
        dupes = sorted({x for x in v if v.count(x) > 1})
        if dupes:
            self.fail(self.field(key), f"lists {', '.join(dupes)} more than once")
        return tuple(v)

    def sub(self, key: str, cls: type) -> "_Reader":
        return _Reader(self.raw(key), self.field(key), self.source, _keys(cls))


def _keys(cls: type) -> tuple[str, ...]:
    # The TOML keys of a table are exactly the fields of its dataclass.
    return tuple(f.name for f in dataclasses.fields(cls))


def _hint(wrong: str, choices: tuple[str, ...]) -> str:
    # Case-insensitive match first: 'CudaExecutionProvider' is the commonest EP-name slip.
    lowered = {c.lower(): c for c in choices}
    close = [lowered[wrong.lower()]] if wrong.lower() in lowered else difflib.get_close_matches(wrong, choices, n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


# --------------------------------------------------------------------------- parsing


def parse_profile(data: Mapping[str, Any], *, source: str = "profile") -> DeviceProfile:
    """Validate a TOML-shaped mapping and build a `DeviceProfile`; raises `ProfileError`."""
    top = _Reader(dict(data), "", source, _keys(DeviceProfile))
    schema_version = top.integer("schema_version", lo=SCHEMA_VERSION, hi=SCHEMA_VERSION)
    name = top.string("name")
    if not _NAME_RE.match(name):
        top.fail("name", f"is {name!r}; allowed: lower-case letters, digits and '-' (it is the file stem)")
    description = top.string("description")
    hardware = _parse_hardware(top.sub("hardware", Hardware))
    model = _parse_model(top.sub("model", ModelSpec), hardware)
    runtime = _parse_runtime(top.sub("runtime", RuntimeSettings), hardware)
    targets = _parse_targets(top.sub("targets", Targets))
    return DeviceProfile(name=name, description=description, hardware=hardware, model=model,
                         runtime=runtime, targets=targets, schema_version=schema_version)


def _parse_hardware(r: _Reader) -> Hardware:
    arch = r.string("arch", choices=ARCHES)
    hw = Hardware(
        cpu=r.string("cpu"),
        arch=arch,
        cores=r.integer("cores", lo=1, hi=1024),
        isa=r.string_list("isa", choices=ISA_FEATURES[arch], allow_empty=True),
        memory_gb=r.number("memory_gb", lo=0, hi=65536, lo_open=True),
        memory_bandwidth_gbs=r.number("memory_bandwidth_gbs", lo=0, hi=100000, lo_open=True),
        memory_bandwidth_source=r.string("memory_bandwidth_source"),
        accelerator=r.string("accelerator", default=None),
    )
    return hw


def _parse_model(r: _Reader, hw: Hardware) -> ModelSpec:
    name = r.string("name", choices=MODELS)
    block = r.integer("int4_block_size", lo=16, hi=256, default=32)
    if block & (block - 1):
        r.fail(r.field("int4_block_size"), f"is {block}; allowed: a power of two in [16, 256]")
    p = r.sub("precision", Precision)
    precision = Precision(**{c: p.string(c, choices=PRECISIONS) for c in COMPONENTS})
    kernels = parse_kernels(r, precision, ISA_FEATURES[hw.arch], hw.isa)
    return ModelSpec(name=name, precision=precision, int4_block_size=block, kernels=kernels)


def _parse_runtime(r: _Reader, hw: Hardware) -> RuntimeSettings:
    eps = r.string_list("execution_providers", choices=EXECUTION_PROVIDERS, allow_empty=False)
    if eps[-1] != "CPUExecutionProvider":
        # ORT puts nodes no other EP claims on CPU; listing it last makes that fallback explicit.
        r.fail(r.field("execution_providers"),
               f"must end with 'CPUExecutionProvider' (the fallback), got {list(eps)}")
    rt = RuntimeSettings(
        execution_providers=eps,
        intra_op_threads=r.integer("intra_op_threads", lo=1, hi=1024),
        inter_op_threads=r.integer("inter_op_threads", lo=1, hi=1024),
        graph_optimization_level=r.string("graph_optimization_level", choices=GRAPH_OPTIMIZATION_LEVELS),
        enable_mem_arena=r.boolean("enable_mem_arena"),
        flow_steps=r.integer("flow_steps", lo=1, hi=MAX_FLOW_STEPS),
        cfg_alpha=r.number("cfg_alpha", lo=CFG_ALPHA_RANGE[0], hi=CFG_ALPHA_RANGE[1], default=None),
        first_chunk_frames=r.integer("first_chunk_frames", lo=1, hi=250),
        chunk_frames=r.integer("chunk_frames", lo=1, hi=1000),
        # Absent (the bundled profiles): the bundle's own exact minimum (its codec's receptive field: 21 frames for
        # the release, 13 for the small default codec). The engine refuses less than that for a given bundle.
        codec_left_context_frames=r.integer("codec_left_context_frames", lo=1, hi=1000, default=None),
        static_shapes=r.boolean("static_shapes"),
        max_context=r.integer("max_context", lo=256, hi=131072),
        max_audio_seconds=r.number("max_audio_seconds", lo=MAX_AUDIO_SECONDS_RANGE[0], hi=MAX_AUDIO_SECONDS_RANGE[1],
                                   default=None),
        silence_stop_seconds=r.number("silence_stop_seconds", lo=SILENCE_STOP_SECONDS_RANGE[0],
                                      hi=SILENCE_STOP_SECONDS_RANGE[1], default=None),
        lexicon=r.string("lexicon", default=None),
        npu_target=r.string("npu_target", choices=NPU_TARGETS, default=None),
        provider_options=string_tables(r, "provider_options", EXECUTION_PROVIDERS),
        cpu_graphs=string_tables(r, "cpu_graphs", None),
    )
    if rt.intra_op_threads > hw.cores:
        r.fail(r.field("intra_op_threads"),
               f"is {rt.intra_op_threads}; allowed: at most hardware.cores = {hw.cores}")
    if rt.first_chunk_frames > rt.chunk_frames:
        r.fail(r.field("first_chunk_frames"),
               f"is {rt.first_chunk_frames}; allowed: at most runtime.chunk_frames = {rt.chunk_frames}")
    if "QNNExecutionProvider" in eps and not rt.static_shapes:
        # QNN HTP compiles fixed-shape graphs only (docs/hardware.md#accelerators).
        r.fail(r.field("static_shapes"), "must be true when QNNExecutionProvider is listed")
    return rt


def _parse_targets(r: _Reader) -> Targets:
    limits = {"ttfa_ms_p50": 600_000.0, "ttfa_ms_p95": 600_000.0, "rtf": 1000.0, "peak_rss_mb": 1_048_576.0}
    parsed = {}
    for key in TARGET_NAMES:
        t = r.sub(key, Target)
        parsed[key] = Target(value=t.number("value", lo=0, hi=limits[key], lo_open=True),
                             derivation=t.string("derivation"))
    if parsed["ttfa_ms_p95"].value < parsed["ttfa_ms_p50"].value:
        r.fail(r.field("ttfa_ms_p95.value"),
               f"is {parsed['ttfa_ms_p95'].value:g}; allowed: >= targets.ttfa_ms_p50.value "
               f"= {parsed['ttfa_ms_p50'].value:g}")
    return Targets(**parsed)


# --------------------------------------------------------------------------- loading


def _bundled() -> dict[str, Any]:
    root = resources.files(__name__)
    return {p.name[: -len(".toml")]: p for p in root.iterdir()
            if p.name.endswith(".toml") and p.is_file()}


def list_profiles() -> list[str]:
    """Names of the profiles shipped with vox-edge, sorted."""
    return sorted(_bundled())


def load_profile(name_or_path: str | os.PathLike[str]) -> DeviceProfile:
    """Load a bundled profile by name (``"raspberry-pi-5"``) or any ``.toml`` file by path."""
    text = str(name_or_path)
    looks_like_path = (isinstance(name_or_path, os.PathLike) or text.endswith(".toml")
                       or os.sep in text or (os.altsep is not None and os.altsep in text))
    if looks_like_path:
        path = Path(text)
        if not path.is_file():
            raise ProfileError(f"device profile file {text!r} does not exist")
        raw, stem, source = path.read_bytes(), path.stem, str(path)
    else:
        bundled = _bundled()
        if text not in bundled:
            raise ProfileError(f"unknown device profile {text!r}; available: {', '.join(sorted(bundled))} "
                               "(or pass a path to a .toml file)")
        raw, stem, source = bundled[text].read_bytes(), text, f"{text}.toml"
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ProfileError(f"{source}: not valid TOML: {e}") from None
    profile = parse_profile(data, source=source)
    if profile.name != stem:
        # One name per profile: what --profile takes, what the file is called, what reports print.
        raise ProfileError(f"{source}: name is {profile.name!r}; allowed: the file stem {stem!r}")
    return profile


# --------------------------------------------------------------------------- host detection


def _guess_profile(machine: str, system: str, board: str, cpus: int) -> str | None:
    machine = machine.lower()
    if machine in ("arm64", "aarch64") and system == "Darwin":
        return "apple-silicon-laptop"
    if machine in ("arm64", "aarch64"):
        for marker, name in (("Raspberry Pi 5", "raspberry-pi-5"), ("Raspberry Pi 4", "raspberry-pi-4"),
                             ("AGX Orin", "jetson-agx-orin"), ("Orin Nano", "jetson-orin-nano")):
            if marker in board:
                return name
        return None
    if machine in ("x86_64", "amd64"):
        # Small VMs and CI runners: the 2-core profile's thread counts fit; anything bigger: a laptop.
        return "dev-vm-2core-x86" if cpus <= 2 else "x86-laptop"
    return None


def host_profile_name() -> str | None:
    """Best-guess bundled profile for this machine, or None when nothing fits."""
    board = ""
    try:
        board = Path("/proc/device-tree/model").read_text(errors="replace")
    except OSError:
        pass
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return _guess_profile(platform.machine(), platform.system(), board, cpus)


def host_profile() -> DeviceProfile | None:
    """`load_profile(host_profile_name())`, or None when no bundled profile fits this machine."""
    name = host_profile_name()
    return load_profile(name) if name else None
