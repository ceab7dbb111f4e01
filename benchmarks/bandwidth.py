"""Measured memory bandwidth of this machine: the denominator of the bench's roofline.

    python -m vox_edge.benchmarks.bandwidth [--mb 1024] [--repeats 7] [--ort fp32,int8,int4-b32-acc4-m2] [--threads 2]

* numpy: best-of-N streaming read (`sum` over a float32 array much larger than the last-level cache), split over
  `--threads` threads (numpy's sum releases the GIL), so the figure is the one that many cores can pull.
  This is what a batch-1 decoder does with its weights every frame.
* ORT (optional): the stream rate of a chain of distinct MatMul weights run through onnxruntime at `--threads`
  intra-op threads (fp32 MatMul, int8 DynamicQuantizeMatMul, int4 MatMulNBits): weight bytes / time. A kernel is
  named `FORMAT[-bBLOCK][-accLEVEL][-mROWS]` (`kernel_key`; int4 defaults b32 acc4, rows default 1: a batch-1
  GEMV; m2 is the flow head's CFG pair), so the bench can probe exactly the kernels its bundle runs. It says how
  close ORT's own kernels get to the numpy figure (as the probe behind docs/hardware.md#cpu-measurements did).

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
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import onnx_wire as ow

ORT_FORMATS = ("fp32", "int8", "int4")


def numpy_read_gbs(mb: int = 1024, repeats: int = 7, threads: int = 1) -> dict:
    """Best and median GB/s (1e9 bytes/s) of np.sum over an `mb` MiB float32 array (first pass discarded), the
    array split into `threads` contiguous slices summed at once by that many threads."""
    threads = max(1, int(threads))
    a = np.ones(mb * (1 << 20) // 4, dtype=np.float32)  # ones: every page really allocated and touched
    parts = np.array_split(a, threads)
    with ThreadPoolExecutor(threads) as pool:
        def read() -> None:
            if threads == 1:
                a.sum()
            else:
                list(pool.map(np.sum, parts))

        read()  # page faults and frequency ramp-up land here, not in the measurement
        rates = []
        for _ in range(repeats):
            t = time.perf_counter()
            read()
            rates.append(a.nbytes / (time.perf_counter() - t) / 1e9)
    return {"method": f"numpy float32 sum, {threads} thread{'s' if threads > 1 else ''}", "mb": mb,
            "repeats": repeats, "threads": threads, "best_gbs": max(rates), "median_gbs": float(np.median(rates))}


def kernel_key(fmt: str, block: int = 32, accuracy_level: int = 4, rows: int = 1) -> str:
    """The probe name of a kernel: 'fp32', 'int8-m2', 'int4-b128-acc4', ... (defaults left out)."""
    if fmt not in ORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {ORT_FORMATS}")
    key = fmt + (f"-b{block}-acc{accuracy_level}" if fmt == "int4" and (block, accuracy_level) != (32, 4) else "")
    return key + (f"-m{rows}" if rows != 1 else "")


def parse_kernel(key: str) -> dict:
    """kernel_key's inverse: 'int4-b128-acc4-m2' -> {fmt: int4, block: 128, accuracy_level: 4, rows: 2}."""
    fmt, *opts = key.strip().lower().split("-")
    out = {"fmt": fmt, "block": 32, "accuracy_level": 4, "rows": 1}
    if fmt not in ORT_FORMATS:
        raise ValueError(f"unknown format {fmt!r} in kernel {key!r}; use one of {ORT_FORMATS}")
    for o in opts:
        for prefix, field in (("acc", "accuracy_level"), ("b", "block"), ("m", "rows")):
            if o.startswith(prefix) and o[len(prefix):].isdigit() and (fmt == "int4" or field == "rows"):
                out[field] = int(o[len(prefix):])
                break
        else:
            raise ValueError(f"kernel {key!r}: option {o!r} does not apply (int4: bN, accN; any: mROWS)")
    if out["rows"] < 1 or out["block"] < 16 or out["block"] & (out["block"] - 1):
        raise ValueError(f"kernel {key!r}: rows >= 1 and a power-of-two block >= 16 please")
    return out


def _chain_model(fmt: str, k: int, n_mats: int, seed: int = 0, block: int = 32,
                 accuracy_level: int = 4) -> tuple[bytes, int]:
    """A [m,k] x (k x k) x ... chain of n_mats distinct weights in format fmt -> (model bytes, weight bytes).

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
            blocks = k // block
            w = rng.integers(0, 256, (k, blocks, block // 2), dtype=np.uint8)  # two 4-bit codes per byte
            s = np.full(k * blocks, 1.0 / (4.6 * k ** 0.5), np.float32)  # 4.6 = std of uniform 4-bit codes
            inits += [ow.tensor(f"w{i}", w), ow.tensor(f"s{i}", s)]
            nodes.append(ow.node("MatMulNBits", [x, f"w{i}", f"s{i}"], [y], f"mm{i}", "com.microsoft",
                                 {"K": k, "N": k, "bits": 4, "block_size": block, "accuracy_level": accuracy_level}))
            wbytes += w.nbytes + s.nbytes
        else:
            raise ValueError(f"unknown format {fmt!r}; use one of {ORT_FORMATS}")
        x = y
    m = ow.model(nodes, inits, [ow.value_info("x", ow.FLOAT, ("m", k))], [ow.value_info(x, ow.FLOAT, ("m", k))],
                 {"": 17, "com.microsoft": 1})
    return m, wbytes


def ort_stream_gbs(fmt: str, mb: int = 512, threads: int = 0, repeats: int = 15, k: int = 3072) -> dict:
    """Weight bytes / median time of one pass through a chain of ~`mb` MiB of distinct k x k weights; `fmt` is a
    format or a kernel key (`parse_kernel`: block, accuracy level and rows of the input)."""
    from vox_edge.runtime.sessions import cpu_session

    kern = parse_kernel(fmt)
    per = {"fp32": 4.0, "int8": 1.0, "int4": 0.5 + 4 / kern["block"]}[kern["fmt"]] * k * k
    n_mats = max(2, int(mb * (1 << 20) / per))
    blob, wbytes = _chain_model(kern["fmt"], k, n_mats, block=kern["block"], accuracy_level=kern["accuracy_level"])
    sess = cpu_session(blob, threads)
    del blob
    x = np.random.default_rng(1).standard_normal((kern["rows"], k), dtype=np.float32)
    out = sess.get_outputs()[0].name
    for _ in range(2):
        sess.run([out], {"x": x})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        sess.run([out], {"x": x})
        times.append(time.perf_counter() - t)
    med = float(np.median(times))
    return {"format": kern["fmt"], "kernel": fmt, "block": kern["block"] if kern["fmt"] == "int4" else None,
            "accuracy_level": kern["accuracy_level"] if kern["fmt"] == "int4" else None, "rows": kern["rows"],
            "k": k, "matrices": n_mats, "weight_mb": wbytes / 2**20, "threads": threads,
            "median_ms": med * 1e3, "gbs": wbytes / med / 1e9, "best_gbs": wbytes / min(times) / 1e9}


def measure(mb: int = 1024, repeats: int = 7, ort_formats: tuple[str, ...] = (), ort_mb: int = 512,
            threads: int = 0) -> dict:
    """numpy read at `threads` threads (0 = one) and the ORT chains `ort_formats` (formats or kernel keys) at
    `threads` intra-op threads. gbs: the numpy figure; floor_gbs: the best rate seen, numpy or any ORT kernel,
    the honest roofline bandwidth at this thread count."""
    out = {"numpy": numpy_read_gbs(mb, repeats, threads or 1), "ort": {}, "loadavg": list(os.getloadavg()),
           "threads": threads}
    for f in ort_formats:
        out["ort"][f] = ort_stream_gbs(f, ort_mb, threads)
    out["gbs"] = out["numpy"]["best_gbs"]  # the best streaming read seen by numpy
    rates = {"numpy": out["gbs"], **{f"ORT {f}": o["best_gbs"] for f, o in out["ort"].items()}}
    best = max(rates, key=rates.get)
    out["floor_gbs"], out["floor_source"] = rates[best], best
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
    p.add_argument("--ort", default="", help=f"comma list of ORT chains to measure: formats {','.join(ORT_FORMATS)} or "
                   "kernel keys FORMAT[-bBLOCK][-accLEVEL][-mROWS], e.g. int4-b128-acc4-m2")
    p.add_argument("--ort-mb", type=int, default=512, help="weight MiB per ORT chain (default 512)")
    p.add_argument("--threads", type=int, default=0, help="ORT intra-op threads and numpy reader threads (0 = ORT "
                   "default, one numpy thread)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    a = p.parse_args(argv)
    fmts = tuple(f for f in a.ort.split(",") if f)
    res = measure(a.mb, a.repeats, fmts, a.ort_mb, a.threads)
    if a.json:
        print(json.dumps(res))
        return 0
    n = res["numpy"]
    print(f"numpy read ({n['mb']} MiB, {n['threads']} thread(s)): best {n['best_gbs']:.1f} GB/s, "
          f"median {n['median_gbs']:.1f} GB/s")
    for f, r in res["ort"].items():
        print(f"ORT {f:16s} chain {r['weight_mb']:.0f} MiB x{r['matrices']}: {r['median_ms']:.1f} ms -> "
              f"{r['gbs']:.1f} GB/s (best {r['best_gbs']:.1f})")
    print(f"floor {res['floor_gbs']:.1f} GB/s ({res['floor_source']})")
    print(f"load average {res['loadavg'][0]:.2f} -> {res['loadavg_after'][0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
