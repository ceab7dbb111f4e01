"""The kernels a profile's device runs: per CPU class (ISA), the export spec of each component and why.

A profile may carry ``[[model.kernels]]`` entries, tried in order; the first whose ``isa`` features the device has
(all of them) is used, and the last entry must need none (every CPU of the architecture gets a choice):

    [[model.kernels]]
    isa = ["avx512_vnni"]                      # needs these ISA features (names of ISA_FEATURES)
    backbone = "int4-b128-acc4-gqa-shared"     # `vox-edge export --component-precision` specs (quantize/plan.py)
    acoustic = "int8"
    codec = "fp32"
    why = "what each kernel is and why it is the one for this CPU class"

    [[model.kernels]]                          # the fallback: any CPU of the profile's architecture
    ...

`vox-edge export CKPT OUT --profile P` exports with the chosen entry's specs; the device's ISA is the profile's
``hardware.isa`` unless the exporter is told otherwise (``--isa host``: this machine's, detected by `host_isa`).
A profile without the table exports ``model.precision`` with ``model.int4_block_size`` for int4 (`choose`).

Standard library only, like the rest of the profile code: spec options are checked by the exporter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KERNEL_KEYS = ("isa", "backbone", "acoustic", "codec", "why")
_SPEC_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# /proc/cpuinfo flag -> the profile's ISA feature name (x86 `flags`, Arm `Features`).
CPUINFO_ISA = {
    "avx2": "avx2", "avx_vnni": "avx_vnni", "avx512f": "avx512f", "avx512_vnni": "avx512_vnni",
    "avx512_bf16": "avx512_bf16", "amx_int8": "amx",
    "asimd": "neon", "asimddp": "neon_dotprod", "asimdhp": "neon_fp16", "i8mm": "i8mm", "sve": "sve", "sve2": "sve2",
    "sme": "sme",
}


@dataclass(frozen=True)
class KernelChoice:
    """Export specs of one CPU class: what `vox-edge export --profile` writes for a device with `isa`."""

    backbone: str
    acoustic: str
    codec: str
    why: str
    isa: tuple[str, ...] = ()  # ISA features this choice needs; () = any CPU of the architecture

    def specs(self) -> dict[str, str]:
        return {"backbone": self.backbone, "acoustic": self.acoustic, "codec": self.codec}

    def applies(self, isa: tuple[str, ...] | list[str] | set[str]) -> bool:
        return set(self.isa) <= set(isa)


def parse_kernels(r: Any, precision: Any, arch_features: tuple[str, ...], profile_isa: tuple[str, ...]) -> tuple[KernelChoice, ...]:
    """``model.kernels`` of the profile reader `r` (the model table): an array of tables, or () when absent."""
    from . import _hint, _Reader, _type_name  # the profile reader's wording (imported when the package is loaded)

    raw = r.raw("kernels", None)
    if raw is None or raw == []:  # absent ([] is what DeviceProfile.to_dict writes for none)
        return ()
    if not isinstance(raw, list):
        r.fail(r.field("kernels"), f"must be an array of tables ([[model.kernels]]), got {_type_name(raw)}")
    out = []
    for i, entry in enumerate(raw):
        k = _Reader(entry, f"{r.field('kernels')}[{i}]", r.source, KERNEL_KEYS)
        isa = k.string_list("isa", choices=arch_features, allow_empty=True) if "isa" in entry else ()
        specs = {}
        for c in ("backbone", "acoustic", "codec"):
            spec = k.string(c)
            if not _SPEC_RE.match(spec):
                k.fail(k.field(c), f"is {spec!r}; allowed: PRECISION[-OPTION...], e.g. int4-b32-acc4")
            head = spec.split("-")[0]
            allowed = ("fp32", "fp16", "int8", "int4")
            if head not in allowed:
                k.fail(k.field(c), f"is {spec!r}; {_hint(head, allowed)}the precision must be one of {', '.join(allowed)}")
            specs[c] = spec
        why = k.string("why")
        if len(why.strip()) < 20:
            k.fail(k.field("why"), "must say which kernels run and why (a sentence at least)")
        out.append(KernelChoice(isa=isa, why=why, **specs))
    if out[-1].isa:
        r.fail(f"{r.field('kernels')}[{len(out) - 1}].isa",
               "must be empty in the last entry (the choice for any CPU of the profile's architecture)")
    mine = first_match(tuple(out), profile_isa)
    for c in ("backbone", "acoustic", "codec"):
        want = getattr(precision, c)
        if mine.specs()[c].split("-")[0] != want:
            r.fail(f"{r.field('kernels')}[{out.index(mine)}].{c}",
                   f"is {mine.specs()[c]!r}, the entry for this profile's own hardware.isa; its precision must be "
                   f"model.precision.{c} = {want!r}")
    return tuple(out)


def first_match(kernels: tuple[KernelChoice, ...], isa: Any) -> KernelChoice:
    return next(k for k in kernels if k.applies(isa))


def choose(model: Any, isa: Any) -> KernelChoice:
    """The kernel choice of a profile's `model` table for a device with ISA features `isa`."""
    if model.kernels:
        return first_match(model.kernels, isa)
    p = model.precision
    block = f"-b{model.int4_block_size}"
    return KernelChoice(
        backbone=p.backbone + (block if p.backbone == "int4" else ""),
        acoustic=p.acoustic + (block if p.acoustic == "int4" else ""),
        codec=p.codec,
        why="derived from model.precision and model.int4_block_size (the profile has no [[model.kernels]])")


def cpuinfo_flags() -> set[str]:
    """Every ISA flag /proc/cpuinfo lists for the first CPU (x86 `flags`, Arm `Features`); empty elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def host_isa(arch: str, flags: set[str] | None = None) -> tuple[str, ...]:
    """This machine's ISA features in the profile's names (those of `arch` only), from /proc/cpuinfo."""
    from . import ISA_FEATURES

    flags = cpuinfo_flags() if flags is None else flags
    found = {CPUINFO_ISA[f] for f in flags if f in CPUINFO_ISA}
    if arch == "aarch64" and flags and "asimd" not in flags and "neon" not in flags and "fp" in flags:
        found.add("neon")  # every Armv8-A core has Advanced SIMD; some kernels list only 'fp'
    return tuple(f for f in ISA_FEATURES.get(arch, ()) if f in found)
