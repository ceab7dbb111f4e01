"""Precision specs -> quantisation plans, per component, and the one dispatcher that applies them.

A spec is `PRECISION[-OPTION...]` (`split_spec`; the backbone's BackboneOptions.from_spec reads the same
grammar with its own options, and both take the MatMulNBits options through `int4_option`):
    fp32 | fp16
    int8[-dynamic|-static|-nncf][-pc|-pt][-minmax|-entropy|-percentile][-convfp16|-convfp32]
                                                         (pc/pt: per-channel / per-tensor; conv: conv weight storage)
    int4[-bNN][-accN][-sym|-asym][-nncf][-force][-convfp16|-convfp32]       (bNN: block size, accN: accuracy_level)
    codec only, any precision but fp32: -snrN     the codec-SNR guard (export/codec_guard.py): the streamed
                                                   waveform against the FP32 graph's; below N dB the FP32 graph is
                                                   written instead, with a message
The manifest records PRECISION per graph; the method is reported next to it. Defaults were chosen by
measurement (quantize/README.md): the codec does not tolerate 4-bit weights, so `int4` for the codec
falls back to CODEC_INT4_FALLBACK with a warning, and flow_condition (the semantic head) stays int8
under an int4 acoustic head, unless `-force` is given. Dynamic int8 and MatMulNBits int4 store Conv /
ConvTranspose weights and constant Gather tables (the codec's semantic codebook embedding) as int8 weight-only
(dequantised at session load); `-convfp16` stores them FP16 (near-lossless, 2/3 of the saving), `-convfp32` keeps
them as exported (the graph before those changes; int4 kept them FP32 until 2026-12-07).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from vox_edge.manifest import PRECISIONS

CODEC_INT4_FALLBACK = "int8"


def split_spec(spec: str, what: str, error: type[Exception] = ValueError) -> tuple[str, list[str]]:
    """'int4-b128-sym' -> ('int4', ['b128', 'sym']); `error` names `what` when the precision is not one of
    PRECISIONS (the manifest's)."""
    precision, *options = str(spec).strip().lower().split("-")
    if precision not in PRECISIONS:
        raise error(f"unknown precision {spec!r} for {what}: use one of {', '.join(PRECISIONS)} "
                    "(optionally with options, e.g. int8-static, int4-b128)")
    return precision, options


def int4_option(option: str) -> tuple[str, int | bool] | None:
    """A MatMulNBits option -> (field, value): bN block_size, accN accuracy_level, sym / asym symmetric; None
    for any other option."""
    if option.startswith("b") and option[1:].isdigit():
        return "block_size", int(option[1:])
    if option.startswith("acc") and option[3:].isdigit():
        return "accuracy_level", int(option[3:])
    if option in ("sym", "asym"):
        return "symmetric", option == "sym"
    return None


@dataclass(frozen=True)
class QuantPlan:
    precision: str  # what the manifest records
    method: str  # none | fp16 | dynamic | static | nbits | nncf
    per_channel: bool = True
    calibrate_method: str = "minmax"
    block_size: int = 32
    accuracy_level: int = 4
    symmetric: bool = False
    conv_weights: str = "int8"  # dynamic / nbits: Conv / ConvTranspose weights 'int8' / 'fp16' (weight-only) / 'fp32'
    min_snr_db: float | None = None  # codec only: the codec-SNR guard's floor (option snrN); None = no guard

    @property
    def needs_calibration(self) -> bool:
        return self.method == "static" or (self.method == "nncf" and self.precision == "int8")

    def describe(self) -> str:
        guard = "" if self.min_snr_db is None else f", codec-SNR guard >= {self.min_snr_db:g} dB"
        return self._describe() + guard

    def _describe(self) -> str:
        if self.method == "dynamic":
            return (f"int8 dynamic ({'per-channel' if self.per_channel else 'per-tensor'} QInt8 weights, "
                    f"any conv weights {self.conv_weights}{'' if self.conv_weights == 'fp32' else ' weight-only'})")
        if self.method == "static":
            return f"int8 static QDQ ({self.calibrate_method}, {'per-channel' if self.per_channel else 'per-tensor'})"
        if self.method == "nbits":
            return (f"int4 MatMulNBits (block {self.block_size}, accuracy_level {self.accuracy_level}, "
                    f"{'sym' if self.symmetric else 'asym'}; any conv weights {self.conv_weights}"
                    f"{'' if self.conv_weights == 'fp32' else ' weight-only'})")
        if self.method == "nncf":
            return f"{self.precision} nncf ({'quantize' if self.precision == 'int8' else 'compress_weights'})"
        return self.precision


# Per component defaults for a bare precision.
DEFAULTS: dict[tuple[str, str], QuantPlan] = {
    ("acoustic", "fp32"): QuantPlan("fp32", "none"),
    ("acoustic", "fp16"): QuantPlan("fp16", "fp16"),
    ("acoustic", "int8"): QuantPlan("int8", "dynamic", per_channel=True),
    # Block 128: at release dims b32 is no faster than int8 for the velocity net (59 vs 55 ms, M = 6 rows),
    # b128 is 1.7x faster (32 ms) for 3 points less code agreement (quantize/README.md).
    ("acoustic", "int4"): QuantPlan("int4", "nbits", block_size=128, accuracy_level=4),
    ("codec", "fp32"): QuantPlan("fp32", "none"),
    ("codec", "fp16"): QuantPlan("fp16", "fp16"),
    ("codec", "int8"): QuantPlan("int8", "dynamic", per_channel=True),
    ("codec", "int4"): QuantPlan("int4", "nbits", block_size=32, accuracy_level=4),  # only with -force
}


def plan_for(component: str, spec: str, warn: Callable[[str], None] | None = None, graph: str | None = None) -> QuantPlan:
    """The plan for one graph of `component` ('acoustic' / 'codec') given a precision spec."""
    precision, opts = split_spec(spec, component)
    force = "force" in opts
    if component == "codec" and precision == "int4" and not force:
        if warn:
            warn(f"[export] warning: 4-bit codec weights lose ~13 dB of waveform SNR against int8 and run no faster "
                 f"(measured, quantize/README.md); using {CODEC_INT4_FALLBACK} for the codec. "
                 "Ask for 'int4-force' to override.")
        keep = "".join(f"-{o}" for o in opts if o.startswith("snr"))  # the guard travels with the fallback
        return plan_for(component, CODEC_INT4_FALLBACK + keep, warn, graph)
    if graph == "flow_condition" and precision == "int4" and not force:
        # The semantic head's argmax picks the next backbone input: 4-bit flipped 13% of semantic codes on
        # `small`, int8 under 2%; the head is ~7% of the acoustic weights.
        return plan_for(component, "int8", warn, graph)
    plan = DEFAULTS.get((component, precision)) or DEFAULTS[("acoustic", precision)]
    for o in opts:
        if o == "force":
            continue
        if o in ("dynamic", "static", "nncf") and precision == "int8" or o == "nncf" and precision == "int4":
            plan = replace(plan, method=o)
        elif o in ("pc", "pt") and precision == "int8":
            plan = replace(plan, per_channel=(o == "pc"))
        elif o in ("minmax", "entropy", "percentile") and precision == "int8":
            plan = replace(plan, calibrate_method=o)
        elif o in ("convfp16", "convfp32") and precision in ("int8", "int4"):
            plan = replace(plan, conv_weights=o[4:])
        elif o.startswith("snr") and o[3:].isdigit() and component == "codec" and precision != "fp32":
            plan = replace(plan, min_snr_db=float(o[3:]))
        elif precision == "int4" and int4_option(o):
            key, value = int4_option(o)
            plan = replace(plan, **{key: value})  # QuantPlan's fields carry int4_option's names
        else:
            raise ValueError(f"precision spec {spec!r}: option {o!r} does not apply to {precision}")
    if plan.conv_weights != "int8" and plan.method not in ("dynamic", "nbits"):
        raise ValueError(f"precision spec {spec!r}: '-conv{plan.conv_weights}' applies to dynamic int8 and int4 only "
                         "(the other methods keep conv weights FP32)")
    if plan.method == "nncf" and warn:
        warn("[export] note: nncf graphs are for OpenVINO (runtime or ORT's OpenVINO EP); ORT's CPU EP runs them "
             "unfused, measured 2-30x slower than FP32 (quantize/README.md).")
    if plan.method == "nbits" and (plan.block_size < 16 or plan.block_size & (plan.block_size - 1)):
        raise ValueError(f"precision spec {spec!r}: MatMulNBits block size must be a power of two >= 16")
    return plan


def quantize_graph(src: str | Path, dst: str | Path, plan: QuantPlan,
                   feeds: list[Mapping[str, np.ndarray]] | None = None) -> list[Path]:
    """Write `dst` (+ external data) from the FP32 graph `src` following `plan`; returns files written."""
    from .onnx_io import load_model, save_model

    if plan.method == "none":
        return save_model(load_model(src), dst)
    if plan.method == "fp16":
        from .fp16 import to_fp16

        return to_fp16(src, dst)
    if plan.method == "dynamic":
        from .int8 import quantize_int8_dynamic

        return quantize_int8_dynamic(src, dst, per_channel=plan.per_channel, conv_weights=plan.conv_weights)
    if plan.method == "static":
        from .int8 import quantize_int8_static

        return quantize_int8_static(src, dst, feeds or [], per_channel=plan.per_channel, method=plan.calibrate_method)
    if plan.method == "nbits":
        from .int4 import quantize_int4

        return quantize_int4(src, dst, block_size=plan.block_size, accuracy_level=plan.accuracy_level,
                             symmetric=plan.symmetric, conv_weights=plan.conv_weights)
    if plan.method == "nncf":
        from .nncf_backend import nncf_compress

        return nncf_compress(src, dst, plan.precision, feeds=feeds, group_size=plan.block_size)
    raise ValueError(f"unknown quantisation method {plan.method!r}")
