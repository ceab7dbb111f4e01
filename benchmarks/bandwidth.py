"""Measured memory bandwidth of this machine: the denominator of the bench's roofline.

    python -m vox_edge.benchmarks.bandwidth [--mb 1024] [--repeats 7] [--ort fp32,int8,int4] [--threads 2]

* numpy: best-of-N streaming read (`sum` over a float32 array much larger than the last-level cache).
  This is what a batch-1 decoder does with its weights every frame, so it is the roofline's bandwidth.
* ORT (optional): the stream rate of a chain of distinct MatMul weights run at batch 1 through onnxruntime
  (fp32 MatMul, int8 DynamicQuantizeMatMul, int4 MatMulNBits accuracy_level 4): weight bytes / time.
  It says how close ORT's own GEMV kernels get to the numpy figure (as the probe behind docs/hardware.md#cpu-measurements did).

Run it in a child process (`measure_in_subprocess`) when a benchmark also reports peak RSS: the probe
array would otherwise become the process's peak.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from . import onnx_wire as ow

ORT_FORMATS = ("fp32", "int8", "int4")


def numpy_read_gbs(mb: int = 1024, repeats: int = 7) -> dict:
    """Best and median GB/s (1e9 bytes/s) of np.sum over an `mb` MiB float32 array (first pass discarded)."""
    a = np.ones(mb * (1 << 20) // 4, dtype=np.float32)  # ones: every page really allocated and touched
    a.sum()  # page faults and frequency ramp-up land here, not in the measurement
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        a.sum()
        rates.append(a.nbytes / (time.perf_counter() - t) / 1e9)
    return {"method": "numpy float32 sum", "mb": mb, "repeats": repeats,
            "best_gbs": max(rates), "median_gbs": float(np.median(rates))}


def _chain_model(fmt: str, k: int, n_mats: int, seed: int = 0) -> tuple[bytes, int]:
    """A [1,k] x (k x k) x ... chain of n_mats distinct weights in format fmt -> (model bytes, weight bytes).

    Weights are random; only their size matters. Scales keep activations O(1) (no inf/denormal slow paths).
    """
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    wbytes = 0
    x = "x"
    for i in range(n_mats):
        y = f"y{i}"
        if fmt == "fp32":
            w = ((rng.random((k, k), dtype=np.float32) - 0.5) * (3.46 / k ** 0.5)).astype(np.float32)
            inits.append(ow.tensor(f"w{i}", w))
            nodes.append(ow.node("MatMul", [x, f"w{i}"], [y], f"mm{i}"))
            wbytes += w.nbytes
        elif fmt == "int8":
            w = rng.integers(-127, 128, (k, k), dtype=np.int8)
            s = np.array(1.0 / (73.0 * k ** 0.5), np.float32)  # 73 = std of uniform int8
            inits += [ow.tensor(f"w{i}", w), ow.tensor(f"s{i}", s)]
            nodes.append(ow.node("DynamicQuantizeMatMul", [x, f"w{i}", f"s{i}"], [y], f"mm{i}", "com.microsoft"))
            wbytes += w.nbytes + s.nbytes
        elif fmt == "int4":
            block = 32
            blocks = k // block
            w = rng.integers(0, 256, (k, blocks, block // 2), dtype=np.uint8)  # two 4-bit codes per byte
            s = np.full(k * blocks, 1.0 / (4.6 * k ** 0.5), np.float32)  # 4.6 = std of uniform 4-bit codes
            inits += [ow.tensor(f"w{i}", w), ow.tensor(f"s{i}", s)]
            nodes.append(ow.node("MatMulNBits", [x, f"w{i}", f"s{i}"], [y], f"mm{i}", "com.microsoft",
                                 {"K": k, "N": k, "bits": 4, "block_size": block, "accuracy_level": 4}))
            wbytes += w.nbytes + s.nbytes
        else:
            raise ValueError(f"unknown format {fmt!r}; use one of {ORT_FORMATS}")
        x = y
    m = ow.model(nodes, inits, [ow.value_info("x", ow.FLOAT, (1, k))], [ow.value_info(x, ow.FLOAT, (1, k))],
                 {"": 17, "com.microsoft": 1})
    return m, wbytes


def ort_stream_gbs(fmt: str, mb: int = 512, threads: int = 0, repeats: int = 15, k: int = 3072) -> dict:
    """Weight bytes / median time of one pass through a chain of ~`mb` MiB of distinct k x k weights."""
    from vox_edge.runtime.sessions import cpu_session

    per = {"fp32": 4.0, "int8": 1.0, "int4": 0.5 + 4 / 32}[fmt] * k * k
    n_mats = max(2, int(mb * (1 << 20) / per))
    blob, wbytes = _chain_model(fmt, k, n_mats)
    sess = cpu_session(blob, threads)
    del blob
    x = np.random.default_rng(1).standard_normal((1, k), dtype=np.float32)
    out = sess.get_outputs()[0].name
    for _ in range(2):
        sess.run([out], {"x": x})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        sess.run([out], {"x": x})
        times.append(time.perf_counter() - t)
    med = float(np.median(times))
    return {"format": fmt, "k": k, "matrices": n_mats, "weight_mb": wbytes / 2**20, "threads": threads,
            "median_ms": med * 1e3, "gbs": wbytes / med / 1e9, "best_gbs": wbytes / min(times) / 1e9}


def measure(mb: int = 1024, repeats: int = 7, ort_formats: tuple[str, ...] = (), ort_mb: int = 512,
            threads: int = 0) -> dict:
    out = {"numpy": numpy_read_gbs(mb, repeats), "ort": {}, "loadavg": list(os.getloadavg())}
    for f in ort_formats:
        out["ort"][f] = ort_stream_gbs(f, ort_mb, threads)
    out["gbs"] = out["numpy"]["best_gbs"]  # the roofline's bandwidth: the best streaming read seen
    out["loadavg_after"] = list(os.getloadavg())
    return out


def measure_in_subprocess(mb: int = 1024, repeats: int = 7, ort_formats: tuple[str, ...] = (),
                          ort_mb: int = 512, threads: int = 0, timeout: float = 600) -> dict:
    """`measure` in a fresh interpreter, so its big arrays never count toward the caller's peak RSS."""
    cmd = [sys.executable, "-m", "vox_edge.benchmarks.bandwidth", "--mb", str(mb), "--repeats", str(repeats),
           "--ort-mb", str(ort_mb), "--threads", str(threads), "--json"]
    if ort_formats:
        cmd += ["--ort", ",".join(ort_formats)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"bandwidth probe failed (exit {r.returncode}): {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vox_edge.benchmarks.bandwidth", description=__doc__.splitlines()[0])
    p.add_argument("--mb", type=int, default=1024, help="numpy probe array size in MiB (default 1024)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--ort", default="", help=f"comma list of ORT chain formats to measure: {','.join(ORT_FORMATS)}")
    p.add_argument("--ort-mb", type=int, default=512, help="weight MiB per ORT chain (default 512)")
    p.add_argument("--threads", type=int, default=0, help="ORT intra-op threads (0 = ORT default)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args(argv)
    fmts = tuple(f for f in a.ort.split(",") if f)
    res = measure(a.mb, a.repeats, fmts, a.ort_mb, a.threads)
    if a.json:
        print(json.dumps(res))
        return 0
    n = res["numpy"]
    print(f"numpy read ({n['mb']} MiB): best {n['best_gbs']:.1f} GB/s, median {n['median_gbs']:.1f} GB/s")
    for f, r in res["ort"].items():
        print(f"ORT {f:5s} chain {r['weight_mb']:.0f} MiB x{r['matrices']}: {r['median_ms']:.1f} ms -> "
              f"{r['gbs']:.1f} GB/s (best {r['best_gbs']:.1f})")
    print(f"load average {res['loadavg'][0]:.2f} -> {res['loadavg_after'][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
