"""Markdown sections for benchmarks/RESULTS.md (the comparison scripts append them; nothing is overwritten)."""

from __future__ import annotations

from pathlib import Path


def _f(v, spec: str = ".2f") -> str:
    return "–" if v is None else format(v, spec)


def _load(loads: list[list[float]]) -> str:
    ones = [l[0] for l in loads if l]
    if not ones:
        return "–"
    lo, hi = min(ones), max(ones)
    return f"{lo:.1f}" if abs(hi - lo) < 0.05 else f"{lo:.1f}–{hi:.1f}"


def machine_line(m: dict, bandwidth: dict) -> str:
    ort_rates = ", ".join(f"{f} {o['gbs']:.1f}" for f, o in bandwidth.get("ort", {}).items())
    return (f"Machine: {m['cpu_model']}, {m['cores_usable']} cores, {m['mem_total_mb'] / 1024:.0f} GiB, "
            f"{m['os']}; Python {m['python']}, numpy {m['numpy']}, onnxruntime {m['onnxruntime']}, "
            f"vox-edge {m['vox_edge']}. Measured bandwidth (numpy read, "
            f"{bandwidth['numpy'].get('threads', 1)} thread(s), best of {bandwidth['numpy']['repeats']}): "
            f"**{bandwidth['gbs']:.1f} GB/s** (median {bandwidth['numpy']['median_gbs']:.1f})"
            + (f"; ORT MatMul-chain stream rates GB/s: {ort_rates}" if ort_rates else "")
            + f"; load during the probe {bandwidth['loadavg'][0]:.1f}.")


SWEEP_HEADER = ("| variant | backbone / flow velocity / codec (effective) | thr | NFE | RTF | TTFA p50 / p95 ms | prefill ms | "
                "bb step ms | flow step ms | codec chunk ms | frame ms (wall) | floor ms | roofline % | "
                "bb roofline % | peak RSS MiB | load |")


def sweep_row(name: str, agg: dict) -> str:
    return (f"| {name} | {agg['precision']} | {agg['threads']} | {agg['flow_steps']} | {_f(agg['rtf'], '.3f')} | "
            f"{_f(agg['ttfa_p50'], '.1f')} / {_f(agg['ttfa_p95'], '.1f')} | {_f(agg['prefill_ms'])} | "
            f"{_f(agg['bb_step_ms'])} | {_f(agg['flow_step_ms'])} | {_f(agg['codec_chunk_ms'], '.1f')} | "
            f"{_f(agg['frame_ms'])} | {_f(agg['floor_ms'])} | {_f(agg['roofline_pct'], '.0f')} | "
            f"{_f(agg['bb_roofline_pct'], '.0f')} | {_f(agg['peak_rss_mb'], '.0f')} | {_load(agg['loads'])} |")


def sweep_section(title: str, intro: str, m: dict, bandwidth: dict, rows: list[str]) -> str:
    sep = "|" + "---|" * (SWEEP_HEADER.count("|") - 1)
    return "\n".join([f"## {title}", "", f"Date: {m['date']}. " + machine_line(m, bandwidth), "", intro, "",
                      SWEEP_HEADER, sep, *rows, ""])


def append(path: str | Path, text: str) -> None:
    p = Path(path)
    old = p.read_text(encoding="utf-8") if p.exists() else "# vox-edge benchmark results\n"
    p.write_text(old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n", encoding="utf-8")
