"""Do the measurements meet the device profile's targets? (the bench's exit status)"""

from __future__ import annotations

from typing import Any


def check(result: dict, profile: Any) -> dict:
    """{target name: {target, measured, ok, derivation}} plus "all_ok". A missing measurement fails."""
    t = profile.targets
    measured = {
        "rtf": result["rtf"]["aggregate"],  # total compute / total audio: what a listener waits for
        "ttfa_ms_p50": result["ttfa_ms"]["p50"],
        "ttfa_ms_p95": result["ttfa_ms"]["p95"],
        "peak_rss_mb": result["memory"]["peak_rss_mb"],
    }
    out: dict[str, Any] = {}
    for name, value in measured.items():
        target = getattr(t, name)
        out[name] = {"target": target.value, "measured": value,
                     "ok": value is not None and value <= target.value, "derivation": target.derivation}
    out["all_ok"] = all(v["ok"] for v in out.values())
    return out


def failures(result: dict) -> list[str]:
    """One line per failed target, e.g. 'rtf 2.31 > target 1.9'."""
    lines = []
    for name, v in result["targets"].items():
        if name == "all_ok" or v["ok"]:
            continue
        m = "not measured" if v["measured"] is None else f"{v['measured']:.4g}"
        lines.append(f"{name} {m} > target {v['target']:g}")
    return lines
