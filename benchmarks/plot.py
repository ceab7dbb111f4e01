"""The bench's PNG: where a frame's time goes (against the bandwidth floor) and the TTFA distribution.

matplotlib is optional (the `bench` / `dev` extras): it is imported here, only when a PNG is asked for.
"""

from __future__ import annotations

from pathlib import Path


class PlotUnavailable(RuntimeError):
    pass


def write_png(r: dict, path: str | Path) -> Path:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display on an edge box or CI
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise PlotUnavailable(f"matplotlib is not installed ({e}); install vox-edge[bench] for the PNG") from None

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1.4, 1]})
    pf = r["per_frame_ms"]
    parts = [("backbone step", pf["backbone_step"]), ("flow condition", pf["flow_condition"]),
             (f"flow velocity x{r['profile']['flow_steps']}", pf["flow_velocity"]), ("codec (share)", pf["codec"]),
             ("other (NumPy/Python)", pf["other"])]
    left = 0.0
    colors = ["#3b6ea8", "#7fa7d6", "#e0a040", "#6aa56a", "#b0b0b0"]
    for (label, v), c in zip(parts, colors):
        ax1.barh([0], [v], left=left, color=c, label=f"{label}: {v:.2f} ms")
        left += v
    floor = r["roofline"]["floor_ms_per_frame"]
    ax1.axvline(floor, color="k", ls="--", lw=1.2, label=f"bandwidth floor {floor:.2f} ms "
                f"({r['roofline']['bandwidth_gbs']:.1f} GB/s)")
    rp = r["roofline"].get("profile")
    if rp and abs(rp["bandwidth_gbs"] - r["roofline"]["bandwidth_gbs"]) > 0.05:
        ax1.axvline(rp["floor_ms_per_frame"], color="k", ls=":", lw=1.2,
                    label=f"floor at the profile's {rp['bandwidth_gbs']:.1f} GB/s: {rp['floor_ms_per_frame']:.2f} ms")
    ax1.set_yticks([])
    ax1.set_xlabel("ms per frame (80 ms of audio)")
    frac = r["roofline"]["fraction_wall"]
    ax1.set_title(f"per-frame time: {pf['wall_excl_prefill']:.2f} ms wall"
                  + (f", {100 * frac:.0f} % of roofline" if frac else ""))
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8, frameon=False)

    ttfa = [u["ttfa_ms"] for u in r["utterances"] if u["ttfa_ms"] is not None]
    if ttfa:
        ax2.hist(ttfa, bins=min(20, max(3, len(ttfa))), color="#3b6ea8", alpha=0.8)
        for key, ls in (("p50", "-"), ("p95", ":")):
            ax2.axvline(r["ttfa_ms"][key], color="k", ls=ls, lw=1.2, label=f"{key} {r['ttfa_ms'][key]:.1f} ms")
        tgt = r["targets"].get("ttfa_ms_p50", {}).get("target")
        if tgt is not None:
            ax2.axvline(tgt, color="r", ls="--", lw=1.2, label=f"target p50 {tgt:g} ms")
        ax2.legend(fontsize=8)
    ax2.set_xlabel("time to first audio, ms (voice prefix cached)")
    ax2.set_ylabel("utterances")
    ax2.set_title(f"TTFA over {len(ttfa)} utterances")

    m, b = r["machine"], r["bundle"]
    prec = "/".join(sorted(set(b["precision_per_graph"].values())))
    fig.suptitle(f"{Path(b['path']).name} ({prec}) on {m['cpu_model']}, {r['profile']['intra_op_threads']} threads, "
                 f"{m['date'][:10]}", fontsize=10)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
