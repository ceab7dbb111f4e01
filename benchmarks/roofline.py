"""The bandwidth roofline: bytes that must stream from DRAM per generated frame, and the floor time they imply.

At batch 1 every weight of a network is read once per call (docs/hardware.md#cost-model), so per frame:

    backbone graph bytes                  (one step; the text/code embedding tables are gathered, not streamed)
  + KV cache bytes read by that step      (measured from the step's inputs)
  + flow_condition bytes                  (semantic head + llm projection, once per frame)
  + flow_velocity bytes x NFE             (the CFG pair runs as one B=2 call: the weights are read once per call)
  + codec bytes x codec calls / frames    (its weights are read once per chunk)

Graph bytes come from the manifest's files table (graph file + its external-data files): the bench may
not import `onnx`, and at these sizes the protobuf framing is noise. FP16 graphs on the CPU provider are
counted twice: ORT has no FP16 GEMM on x86/most Arm CPUs and keeps such weights as FP32 after load
(docs/hardware.md#cpu-measurements), so that is what streams.
"""

from __future__ import annotations

from typing import Any

from vox_edge.manifest import Manifest


def graph_file_bytes(manifest: Manifest) -> dict[str, int]:
    """graph name -> bytes of its .onnx plus external-data files, from the manifest's files table."""
    files = manifest.data["files"]
    out = {}
    for name, g in manifest.graphs.items():
        entry = manifest.data["graphs"][name]
        rels = [g.file] + list(entry.get("extra_files", []))
        out[name] = sum(int(files[r]["size"]) for r in rels if r in files)
    return out


def graph_read_bytes(manifest: Manifest, providers: dict[str, tuple[str, ...]] | None = None) -> dict[str, int]:
    """Bytes a call of each graph streams: file bytes, x2 for FP16 graphs that run on the CPU provider."""
    out = graph_file_bytes(manifest)
    for name, g in manifest.graphs.items():
        on_cpu = not providers or providers.get(name, ("CPUExecutionProvider",))[0] == "CPUExecutionProvider"
        if g.precision == "fp16" and on_cpu:
            out[name] *= 2
    return out


def per_frame(read_bytes: dict[str, int], flow_steps: int, codec_calls_per_frame: float,
              kv_bytes_per_step: float, codec_graph: str = "codec_decoder") -> dict[str, float]:
    """Bytes streamed per generated frame, by term (`codec_graph`: the codec graph the stream calls)."""
    terms = {
        "backbone": float(read_bytes["backbone"]),
        "kv_cache": float(kv_bytes_per_step),
        "flow_condition": float(read_bytes["flow_condition"]),
        "flow_velocity": float(read_bytes["flow_velocity"]) * flow_steps,
        "codec": float(read_bytes.get(codec_graph, 0)) * codec_calls_per_frame,
    }
    terms["total"] = sum(terms.values())
    return terms


def roofline(bytes_frame: dict[str, float], bandwidth_gbs: float, frame_ms_graphs: float, frame_ms_wall: float,
             backbone_step_ms: float) -> dict[str, Any]:
    """Floor ms per frame at `bandwidth_gbs`, and the achieved fraction (floor / measured) three ways."""
    def floor_ms(nbytes: float) -> float:
        return nbytes / (bandwidth_gbs * 1e9) * 1e3

    floor = floor_ms(bytes_frame["total"])
    bb_floor = floor_ms(bytes_frame["backbone"] + bytes_frame["kv_cache"])
    return {
        "bandwidth_gbs": bandwidth_gbs,
        "bytes_per_frame": bytes_frame,
        "floor_ms_per_frame": floor,
        "frame_ms_graphs": frame_ms_graphs,  # sum of the per-frame ORT calls (medians)
        "frame_ms_wall": frame_ms_wall,  # wall time per frame outside prefill, incl. NumPy glue
        "fraction_graphs": _frac(floor, frame_ms_graphs),
        "fraction_wall": _frac(floor, frame_ms_wall),
        "backbone_floor_ms": bb_floor,
        "backbone_step_ms": backbone_step_ms,
        "backbone_fraction": _frac(bb_floor, backbone_step_ms),
        "floor_rtf": None,  # filled by the caller, which knows the frame rate
    }


def _frac(floor: float, measured: float) -> float | None:
    return floor / measured if measured and measured > 0 else None


def stage_rates(read_bytes: dict[str, int], kv_bytes_per_step: float, codec_calls_per_frame: float, stages: dict,
                per_frame_ms: dict, floor_gbs: float, kernels: dict[str, str] | None = None,
                kernel_rates: dict[str, dict] | None = None, codec_graph: str = "codec_decoder") -> dict[str, dict]:
    """Achieved GB/s per stage: bytes of weights a call streams / its measured time.

    backbone_step: graph + KV bytes / step p50; flow_condition: its graph / call p50; flow_step: the velocity graph /
    one Euler step (the CFG pair is one call, its weights read once); codec: the codec graph x calls per frame / codec
    ms per frame. Each stage also as a fraction of the backbone step's rate (acceptance: >= 75 % for the flow step
    and the codec), of `floor_gbs`, and of the stream rate of its own kernel where that was probed (`kernels`:
    stage -> probe key, `kernel_rates`: probe key -> bandwidth.ort_stream_gbs result).
    """
    kernels, kernel_rates = kernels or {}, kernel_rates or {}
    terms = {
        "backbone_step": (read_bytes.get("backbone", 0) + (kv_bytes_per_step or 0), stages["backbone_step"]["p50"]),
        "flow_condition": (read_bytes.get("flow_condition", 0), stages["flow_condition"]["p50"]),
        "flow_step": (read_bytes.get("flow_velocity", 0), stages["flow_step"]["p50"]),
        "codec": (read_bytes.get(codec_graph, 0) * codec_calls_per_frame, per_frame_ms.get("codec")),
    }
    out: dict[str, dict] = {}
    for name, (nbytes, ms) in terms.items():
        gbs = nbytes / (ms * 1e6) if ms and nbytes else None
        key = kernels.get(name)
        k = kernel_rates.get(key, {}) if key else {}
        out[name] = {"bytes": float(nbytes), "ms": ms, "gbs": gbs, "of_floor": _ratio(gbs, floor_gbs),
                     "kernel": key, "kernel_gbs": k.get("best_gbs"), "of_kernel": _ratio(gbs, k.get("best_gbs"))}
    bb = out["backbone_step"]["gbs"]
    for v in out.values():
        v["of_backbone"] = _ratio(v["gbs"], bb)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None
