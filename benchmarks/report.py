"""The bench's terminal table, from the result dict."""

from __future__ import annotations


def _f(v, spec: str = ".1f", none: str = "-") -> str:
    return none if v is None else format(v, spec)


def table(r: dict) -> str:
    m, b, p = r["machine"], r["bundle"], r["profile"]
    prec = ", ".join(f"{k}={v}" for k, v in b["precision_per_graph"].items())
    lines = [
        f"vox-edge bench  {m['date']}  vox-edge {m['vox_edge']}  onnxruntime {m['onnxruntime']}",
        f"machine   {m['cpu_model']} ({m['cores_usable']}/{m['cores']} cores), load {r['loadavg']['start']} -> "
        f"{r['loadavg']['end_of_measurement']}",
        f"bundle    {b['path']}  ({b['files_mb_total']:.1f} MiB; dim {b['dims']['dim']} x {b['dims']['n_layers']} layers)",
        f"          {prec}",
        f"profile   {p['name']}: {p['intra_op_threads']} threads, {p['flow_steps']} flow steps, chunks "
        f"{p['first_chunk_frames']}/{p['chunk_frames']} frames",
        f"run       {r['settings']['utterances']} utterances after {r['settings']['warmup']} warm-up, "
        f"max {r['settings']['max_frames']} frames each, {r['frames_total']} frames = {r['audio_s_total']:.1f} s audio",
        "",
        f"{'':22s}{'p50':>9s}{'p95':>9s}{'n':>6s}",
    ]
    t, rtf = r["ttfa_ms"], r["rtf"]
    lines.append(f"{'TTFA ms (prefix cached)':22s}{_f(t['p50']):>9s}{_f(t['p95']):>9s}{t['n']:>6d}")
    lines.append(f"{'RTF':22s}{_f(rtf['p50'], '.3f'):>9s}{_f(rtf['p95'], '.3f'):>9s}{rtf['n']:>6d}"
                 f"   aggregate {_f(rtf['aggregate'], '.3f')} (CPU time / audio {_f(rtf.get('cpu_aggregate'), '.3f')})")
    if "stall_ms" in r:  # playback gaps of the stream (benchmarks/stats.playback_stalls); older results lack it
        st = r["stall_ms"]
        lines.append(f"{'stream gaps ms / utt':22s}{_f(st['p50']):>9s}{_f(st['p95']):>9s}{st['n']:>6d}"
                     f"   {r['stalls_total']} gaps in all (a player starting at the first audio)")
    for name, s in r["stages_ms"].items():
        if s["n"]:
            lines.append(f"{name + ' ms':22s}{_f(s['p50'], '.2f'):>9s}{_f(s['p95'], '.2f'):>9s}{s['n']:>6d}")
    pf = r["per_frame_ms"]
    lines += ["", "per frame ms: " + ", ".join(f"{k} {v:.2f}" for k, v in pf.items())]
    tb = r["ttfa_breakdown_ms"]
    lines.append("TTFA made of (median ms): " + ", ".join(f"{k} {v:.1f}" for k, v in tb.items()))
    mem = r["memory"]
    lines.append(f"load {r['load_s']:.2f} s, warm-up {r['warmup_s']:.2f} s; RSS peak {mem['peak_rss_mb']:.0f} MiB, "
                 f"current {mem['current_rss_mb']:.0f} MiB, after load {mem['after_load_rss_mb']:.0f} MiB")
    ro = r["roofline"]
    bpf = ro["bytes_per_frame"]
    lines += [
        "",
        f"roofline  bandwidth {ro['bandwidth_gbs']:.1f} GB/s ({r['bandwidth'].get('source', '')})",
        "          bytes/frame " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in bpf.items()),
        f"          floor {ro['floor_ms_per_frame']:.2f} ms/frame (RTF {ro['floor_rtf']:.3f}); measured "
        f"{ro['frame_ms_graphs']:.2f} ms in graphs, {ro['frame_ms_wall']:.2f} ms wall -> "
        f"{_pct(ro['fraction_graphs'])} / {_pct(ro['fraction_wall'])} of the roofline",
        f"          backbone step: floor {ro['backbone_floor_ms']:.2f} ms, measured {ro['backbone_step_ms']:.2f} ms "
        f"-> {_pct(ro['backbone_fraction'])}",
    ]
    rp = ro.get("profile")
    if rp:
        lines.append(f"          at the profile's {rp['bandwidth_gbs']:.1f} GB/s: floor {rp['floor_ms_per_frame']:.2f} ms -> "
                     f"{_pct(rp['fraction_wall'])} of the roofline (backbone {_pct(rp['backbone_fraction'])})")
    for f, o in r["bandwidth"].get("ort", {}).items():
        lines.append(f"          ORT {f} MatMul-chain stream rate {o['gbs']:.1f} GB/s (best {o['best_gbs']:.1f}, "
                     f"{o.get('threads', '-')} threads)")
    sg = r.get("stage_gbs")
    if sg:  # older results lack it
        lines += ["", f"{'achieved GB/s':22s}{'MB':>9s}{'ms':>9s}{'GB/s':>7s}{'of bb':>8s}{'of floor':>9s}"
                  f"{'of kernel':>10s}  kernel"]
        for name, v in sg.items():
            if v["gbs"] is None:
                continue
            lines.append(f"{name + (' (per frame)' if name == 'codec' else ''):22s}{v['bytes'] / 1e6:9.1f}"
                         f"{_f(v['ms'], '.2f'):>9s}{v['gbs']:7.1f}{_pct(v['of_backbone']):>8s}"
                         f"{_pct(v['of_floor']):>9s}{_pct(v['of_kernel']):>10s}  {v['kernel'] or '-'}")
    warn = r["loadavg"].get("warning")
    if warn:
        lines += ["", f"WARNING: {warn}"]
    lines += ["", f"targets ({p['name']}):"]
    for name, v in r["targets"].items():
        if name == "all_ok":
            continue
        lines.append(f"  {'ok  ' if v['ok'] else 'FAIL'} {name:12s} {_f(v['measured'], '.4g'):>10s} <= {v['target']:g}")
    return "\n".join(lines)


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"
