"""A reliability campaign, run by hand as a careless integrator would: fuzzed texts through the API and the CLI, the
argument matrix, the corrupt-bundle matrix, confinement, bounded input, interruption by signals, and what full
verification costs on a first and on a repeat load.

    python -m vox_edge.benchmarks.reliability_campaign --bundle BUNDLE [--texts 300] [--cli-texts 40]
        [--big-file-gb 4] [--append benchmarks/RESULTS.md]

Prints a Markdown section (every count, timing, the machine and the command); exits 1 if any check failed.
tests/test_reliability_*.py keep the same properties true in CI on the tiny bundle, with fewer cases.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from vox_edge import verify_cache
from vox_edge.errors import BundleConfinementError, VoxEdgeError
from vox_edge.manifest import MANIFEST_FILE, load_manifest, sha256_file, verify_files

from .machine import loadavg, machine_info

CLI = [sys.executable, "-m", "vox_edge.cli"]


def fuzz_texts(n: int, seed: int) -> list[str]:
    """Random Unicode of every plane, controls, RTL, ZWJ emoji, long strings, odd numbers and markup."""
    rng = random.Random(seed)
    pools = {
        "any": lambda k: "".join(chr(c) for c in (rng.randrange(0x110000) for _ in range(k)) if not 0xD800 <= c < 0xE000),
        "controls": lambda k: "".join(chr(rng.choice([0, 7, 8, 11, 12, 27, 127, 0x85, 0x200B, 0x202E, 0xFEFF]))
                                      + rng.choice(["a", " ", "."]) for _ in range(k)),
        "rtl": lambda k: "مرحبا بالعالم " * (k // 14 + 1) + "שלום " + "abc",
        "emoji": lambda k: "👨‍👩‍👧‍👦🏳️‍🌈🚗💨 " * (k // 8 + 1),
        "numbers": lambda k: rng.choice(["9" * k, "1,000,000.5 ", "-0.000001e-300 ", "12/31/1999 ", "3:45pm ",
                                         "$1.5bn ", "½ ⅞ Ⅻ ", "0x1F ", "+44 20 7946 0958 "]) * (1 + k // 20),
        "markup": lambda k: rng.choice(["<speak>Hi <break time='1s'/> there</speak>", "<b>bold</b> &amp; &lt;",
                                        "<speak><unknown/></speak>", "<<<>>>", "{\"json\": [1, 2]}", "*_~`#"]) * (1 + k // 40),
        "words": lambda k: " ".join(rng.choice(["Turn", "left", "in", "200", "meters.", "Keep", "right!", "Dr.", "St.",
                                                "km/h", "U.S.", "e.g.", "...", "—"]) for _ in range(k // 4 + 1)),
        "space": lambda k: rng.choice([" ", "\n", "\t", "\u3000", "\r\n"]) * k,
    }
    names = sorted(pools)
    out = []
    for i in range(n):
        k = rng.choice([1, 3, 10, 40, 150, 600, 2000, 50_000])
        out.append(pools[names[i % len(names)]](k)[:k])  # k characters of the pool's pattern
    return out


def api_fuzz(bundle: Path, texts: list[str], max_audio_seconds: float) -> dict:
    from vox_edge.runtime import load
    from vox_edge.runtime.output_bounds import audio_budget_frames

    engine = load(bundle, verify="size")
    r = {"texts": len(texts), "ok": 0, "typed_errors": 0, "crashes": [], "over_budget": 0, "non_finite": 0,
         "stopped_by_end": 0, "segments": 0, "max_s": 0.0, "budget_warnings": 0}
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = engine.synthesize(text, seed=i, max_audio_seconds=max_audio_seconds)
        except VoxEdgeError:
            r["typed_errors"] += 1
            continue
        except Exception as e:  # noqa: BLE001 - what the campaign looks for
            r["crashes"].append(f"{type(e).__name__}: {e}"[:200])
            continue
        finally:
            r["max_s"] = max(r["max_s"], time.perf_counter() - t0)
        r["ok"] += 1
        r["budget_warnings"] += sum("audio budget" in str(w.message) for w in caught)
        frames = sum(len(c) for c in out.codes)
        r["over_budget"] += frames > audio_budget_frames(text, engine.config.frame_rate, max_audio_seconds)
        r["non_finite"] += out.samples.dtype != np.float32 or not bool(np.isfinite(out.samples).all())
        r["stopped_by_end"] += sum(out.stopped)
        r["segments"] += len(out.stopped)
    r["failed"] = bool(r["crashes"] or r["over_budget"] or r["non_finite"])
    return r


def _cli(argv: list[str], cwd: Path, env: dict, timeout: float = 300, stdin=None) -> tuple[int, list[str], float]:
    t0 = time.perf_counter()
    p = subprocess.run(CLI + argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, stdin=stdin)
    return p.returncode, p.stderr.strip().splitlines(), time.perf_counter() - t0


def _one_line_error(code: int, err: list[str]) -> bool:
    return code != 0 and len(err) == 1 and "error: " in err[0] and "Traceback" not in err[0]


def cli_fuzz(bundle: Path, texts: list[str], work: Path, env: dict, max_audio_seconds: float) -> dict:
    r = {"texts": len(texts), "spoken": 0, "one_line_errors": 0, "bad": [], "leftovers": 0}
    for i, text in enumerate(texts):
        d = work / f"cli{i}"
        d.mkdir()
        (d / "t.txt").write_text(text, encoding="utf-8")
        code, err, _ = _cli(["speak", "--text-file", "t.txt", "--bundle", str(bundle), "--out", "x.wav", "-q",
                             "--max-audio-seconds", str(max_audio_seconds)], d, env)
        left = sorted(p.name for p in d.iterdir()) != (["t.txt", "x.wav"] if code == 0 else ["t.txt"])
        r["leftovers"] += left
        if code == 0 and not [ln for ln in err if not ln.startswith("vox-edge: warning:")]:
            r["spoken"] += 1
        elif _one_line_error(code, err):
            r["one_line_errors"] += 1
        else:
            r["bad"].append(f"{text[:30]!r}: exit {code}, {err[-3:]}")
    r["failed"] = bool(r["bad"] or r["leftovers"])
    return r


def argument_matrix(bundle: Path, work: Path, env: dict) -> dict:
    (work / "adir").mkdir()
    b = str(bundle)
    cases = [
        ["speak", "Hi.", "--flow-steps", "65", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--flow-steps", "10000", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--seed=-5", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--cfg-alpha", "nan", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--voice", "", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--voice", "nobody", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--out", "/nonexistent/dir/x.wav", "--bundle", b],
        ["speak", "Hi.", "--out", "adir", "--bundle", b],
        ["speak", "Hi.", "--out", "/dev/null", "--bundle", b],
        ["speak", "   ", "--out", "x.wav", "--bundle", b],
        ["speak", "\x01\x02", "--out", "x.wav", "--bundle", b],
        ["speak", "Hi.", "--bundle", "/no/such/bundle", "--out", "x.wav"],
        ["speak", "Hi.", "--out", "x.wav", "--bundle", b, "--profile", "nope"],
        ["make-checkpoint", "OUT", "--dims", "{not json"],
        ["make-checkpoint", "OUT", "--dims", '{"dim": -4}'],
        ["export", "CKPT", "/proc/nope/b"],
        ["export", "CKPT", "b", "--component-precision", "backbone"],
        ["info", "/no/such/bundle"],
        ["voices", "--bundle", "/no/such"],
        ["bench", b, "--profile", "dev-vm-2core-x86", "--seed", "-1"],
        ["bench", b, "--profile", "dev-vm-2core-x86", "--corpus", "/dev/zero", "-q"],
    ]
    r = {"cases": len(cases), "one_line": 0, "bad": []}
    for argv in cases:
        code, err, _ = _cli(argv, work, env)
        left = sorted(p.name for p in work.iterdir() if p.name != "adir") or list((work / "adir").iterdir())
        if _one_line_error(code, err) and not left:
            r["one_line"] += 1
        else:
            r["bad"].append(f"{' '.join(argv)[:60]}: exit {code}, {err[-2:]}, left {left}")
    r["failed"] = bool(r["bad"])
    return r


def _flip_byte(path: Path, i: int | None = None) -> int:
    """XOR one byte (the middle one by default) with 1; flipping the same byte again restores the file."""
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if i is None else i
    data[i] ^= 1
    path.write_bytes(bytes(data))
    return i


def corrupt_matrix(bundle: Path, work: Path, env: dict) -> dict:
    copy = work / "bundle"
    shutil.copytree(bundle, copy)
    files = sorted(json.loads((copy / MANIFEST_FILE).read_text())["files"])
    r = {"files": len(files), "caught": 0, "missed": []}
    for rel in files:
        i = _flip_byte(copy / rel)
        code, err, _ = _cli(["speak", "Hi.", "--bundle", str(copy), "--out", "x.wav"], work, env)
        if _one_line_error(code, err) and "sha256" in err[0] and not (work / "x.wav").exists():
            r["caught"] += 1
        else:
            r["missed"].append(rel)
        _flip_byte(copy / rel, i)
    r["failed"] = bool(r["missed"])
    return r


def confinement_matrix(bundle: Path, work: Path) -> dict:
    outside = work / "outside"
    outside.mkdir()
    opened: list[str] = []
    loading = [False]  # only opens during a load count (the campaign itself writes the outside files)
    sys.addaudithook(lambda ev, a: opened.append(a[0]) if loading[0] and ev == "open" and isinstance(a[0], str)
                     and a[0].startswith(str(outside)) else None)
    base = json.loads((bundle / MANIFEST_FILE).read_text())
    r = {"cases": 0, "refused": 0, "loaded": []}
    holders = {"graph": lambda d: d["graphs"]["flow_time"], "voice": lambda d: d["voices"][d["default_voice"]],
               "tokenizer": lambda d: d["tokenizer"], "array": lambda d: d["arrays"]["tok_embeddings"]}
    for where, get in holders.items():
        for kind in ("absolute", "dotdot", "symlink"):
            copy = work / f"c_{where}_{kind}"
            shutil.copytree(bundle, copy)
            d = json.loads(json.dumps(base))
            holder = get(d)
            real = outside / f"{where}_{kind}"
            shutil.copyfile(copy / holder["file"], real)  # valid content and hash: only its place is wrong
            new = {"absolute": str(real), "dotdot": os.path.relpath(real, copy), "symlink": f"link_{where}"}[kind]
            if kind == "symlink":
                (copy / new).symlink_to(real)
            d["files"][new] = d["files"].pop(holder["file"])
            holder["file"] = new
            (copy / MANIFEST_FILE).write_text(json.dumps(d))
            for verify in ("full", "size", "none"):
                r["cases"] += 1
                loading[0] = True
                try:
                    load_manifest(copy, verify=verify)
                    r["loaded"].append(f"{where}/{kind}/{verify}")
                except BundleConfinementError:
                    r["refused"] += 1
                finally:
                    loading[0] = False
    r["outside_files_opened"] = len(opened)
    r["failed"] = bool(r["loaded"] or opened)
    return r


def input_bounds(bundle: Path, work: Path, env: dict) -> dict:
    r = {}
    for name, argv, stdin in (("--text-file /dev/zero", ["--text-file", "/dev/zero"], None),
                              ("--text-file /dev/urandom", ["--text-file", "/dev/urandom"], None),
                              ("stdin from `yes`", ["-"], "yes")):
        producer = subprocess.Popen(["yes", "Turn left."], stdout=subprocess.PIPE) if stdin else None
        try:
            code, err, secs = _cli(["speak", *argv, "--bundle", str(bundle), "--out", "x.wav"], work, env,
                                   stdin=producer.stdout if producer else None)
        finally:
            if producer:
                producer.kill()
                producer.wait()
        r[name] = {"exit": code, "seconds": round(secs, 2), "one_line": _one_line_error(code, err),
                   "left": sorted(p.name for p in work.iterdir())}
    r["failed"] = any(not v["one_line"] or v["left"] for v in list(r.values()))
    return r


def interruption(bundle: Path, work: Path, env: dict) -> dict:
    text = "Turn left in two hundred meters, then keep right. " * 40
    r = {}
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL):
        d = work / sig.name
        d.mkdir()
        p = subprocess.Popen(CLI + ["speak", text, "--bundle", str(bundle), "--out", "x.wav"], cwd=d, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        part = d / "x.wav.partial"
        t0 = time.monotonic()
        while not (part.exists() and part.stat().st_size > 50_000) and p.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.05)
        p.send_signal(sig)
        _, err = p.communicate(timeout=120)
        row = {"exit": p.returncode, "left": sorted(x.name for x in d.iterdir()), "stderr": err.strip()[-80:]}
        if sig == signal.SIGKILL:  # the next run to the same name takes the stale .partial over
            code, _, _ = _cli(["speak", "Hi.", "--bundle", str(bundle), "--out", "x.wav", "-q"], d, env)
            row["after_rerun"] = sorted(x.name for x in d.iterdir())
            ok = code == 0 and row["after_rerun"] == ["x.wav"]
        else:
            ok = p.returncode == 128 + sig and row["left"] == []
        row["ok"] = ok
        r[sig.name] = row
    r["failed"] = not all(v["ok"] for v in r.values())
    return r


def verification_cost(bundle: Path, work: Path, big_gb: float) -> dict:
    from vox_edge.runtime import load

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    verify_cache._MEMORY.clear()
    os.environ[verify_cache.CACHE_ENV] = str(work / "cache")
    size = sum(m["size"] for m in json.loads((bundle / MANIFEST_FILE).read_text())["files"].values())
    r = {"bundle_mb": round(size / 2**20, 1),
         "bundle_first_verify_s": timed(lambda: load_manifest(bundle, verify="full"))}
    verify_cache._MEMORY.clear()  # a new process: only the record on disk helps
    r["bundle_repeat_verify_s"] = timed(lambda: load_manifest(bundle, verify="full"))
    r["bundle_size_only_s"] = timed(lambda: load_manifest(bundle, verify="size"))
    verify_cache._MEMORY.clear()
    r["engine_repeat_load_full_s"] = timed(lambda: load(bundle, verify="full"))
    r["engine_load_size_s"] = timed(lambda: load(bundle, verify="size"))
    if big_gb > 0:  # one file the size of a 4B bundle, sparse: hashing is CPU-bound either way
        big = work / "big" / "weights.bin"
        big.parent.mkdir()
        with open(big, "wb") as f:
            f.truncate(int(big_gb * 2**30))
        time.sleep(verify_cache.RACY_SECONDS + 0.1)  # outside the racy window, so it can be remembered
        files = {"weights.bin": {"size": big.stat().st_size, "sha256": ""}}
        t_hash = timed(lambda: files["weights.bin"].update(sha256=sha256_file(big)))
        verify_cache._MEMORY.clear()
        r["big_file_gb"] = big_gb
        r["big_first_verify_s"] = t_hash + timed(lambda: verify_files(big.parent, files))
        verify_cache._MEMORY.clear()
        r["big_repeat_verify_s"] = timed(lambda: verify_files(big.parent, files))
    r["failed"] = r["bundle_repeat_verify_s"] >= 1.0 or r.get("big_repeat_verify_s", 0) >= 1.0
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--texts", type=int, default=300, help="fuzzed texts through the API")
    ap.add_argument("--cli-texts", type=int, default=40, help="of those, through the CLI (one process each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fuzz-max-audio-seconds", type=float, default=30.0,
                    help="audio ceiling of each fuzzed API request (the budget check uses it; keeps the run short)")
    ap.add_argument("--big-file-gb", type=float, default=4.0, help="sparse file for the verification timing; 0 = none")
    ap.add_argument("--append", type=Path, help="append the Markdown section to this file (e.g. benchmarks/RESULTS.md)")
    a = ap.parse_args(argv)
    machine = machine_info()
    texts = fuzz_texts(a.texts, a.seed)
    results = {}
    with tempfile.TemporaryDirectory(prefix="vox-edge-campaign-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, VOX_EDGE_CACHE_DIR=str(work / "cli-cache"))
        steps = [("api_fuzz", lambda w: api_fuzz(a.bundle, texts, a.fuzz_max_audio_seconds)),
                 ("cli_fuzz", lambda w: cli_fuzz(a.bundle, texts[: a.cli_texts], w, env, a.fuzz_max_audio_seconds)),
                 ("argument_matrix", lambda w: argument_matrix(a.bundle, w, env)),
                 ("corrupt_matrix", lambda w: corrupt_matrix(a.bundle, w, env)),
                 ("confinement", lambda w: confinement_matrix(a.bundle, w)),
                 ("input_bounds", lambda w: input_bounds(a.bundle, w, env)),
                 ("interruption", lambda w: interruption(a.bundle, w, env)),
                 ("verification", lambda w: verification_cost(a.bundle, w, a.big_file_gb))]
        for name, step in steps:
            w = work / name
            w.mkdir()
            t0 = time.perf_counter()
            results[name] = step(w)
            results[name]["wall_s"] = round(time.perf_counter() - t0, 1)
            print(f"campaign: {name}: {'FAILED' if results[name]['failed'] else 'ok'} "
                  f"({results[name]['wall_s']} s)", file=sys.stderr, flush=True)
    section = markdown(results, machine, a, loadavg())
    print(section)
    if a.append:
        with open(a.append, "a", encoding="utf-8") as f:
            f.write("\n" + section)
    return 1 if any(r["failed"] for r in results.values()) else 0


def markdown(r: dict, m: dict, a: argparse.Namespace, load_after: list[float]) -> str:
    api, cli, args, cor, con, inp, sig, ver = (r[k] for k in ("api_fuzz", "cli_fuzz", "argument_matrix",
                                                              "corrupt_matrix", "confinement", "input_bounds",
                                                              "interruption", "verification"))
    lines = [
        f"### Reliability campaign, {m['date'][:10]}",
        "",
        f"`python -m vox_edge.benchmarks.reliability_campaign --bundle {a.bundle} --texts {a.texts} "
        f"--cli-texts {a.cli_texts} --seed {a.seed} --fuzz-max-audio-seconds {a.fuzz_max_audio_seconds:g} "
        f"--big-file-gb {a.big_file_gb:g}`; {m['cpu_model']}, "
        f"{m['cores_usable']} cores, onnxruntime {m['onnxruntime']}; load average {m['loadavg'][:1]} before, "
        f"{load_after[:1]} after (shared machine).",
        "",
        "| check | result |",
        "|---|---|",
        f"| API fuzz ({api['texts']} texts, max_audio_seconds {a.fuzz_max_audio_seconds:g}) | {api['ok']} spoken, {api['typed_errors']} typed errors, "
        f"**{len(api['crashes'])} crashes**, {api['over_budget']} over budget, {api['non_finite']} non-finite; "
        f"{api['stopped_by_end']}/{api['segments']} segments ended by END; {api['budget_warnings']} budget warnings; "
        f"slowest {api['max_s']:.1f} s |",
        f"| CLI fuzz (the first {cli['texts']} texts, one process each) | {cli['spoken']} spoken, {cli['one_line_errors']} "
        f"one-line errors, **{len(cli['bad'])} other**, {cli['leftovers']} with leftovers |",
        f"| argument matrix | {args['one_line']}/{args['cases']} one line, non-zero, nothing left |",
        f"| corrupt bundle (1 flipped byte per file, `speak` defaults) | {cor['caught']}/{cor['files']} caught |",
        f"| confinement (absolute, '..', symlink x graph/voice/tokenizer/array x verify full/size/none) | "
        f"{con['refused']}/{con['cases']} refused; {con['outside_files_opened']} files outside opened |",
    ]
    for name, v in ((k, x) for k, x in inp.items() if isinstance(x, dict)):
        lines.append(f"| speak {name} | exit {v['exit']} after {v['seconds']} s, one line: {v['one_line']}, "
                     f"left: {v['left'] or 'nothing'} |")
    for name, v in ((k, x) for k, x in sig.items() if isinstance(x, dict)):
        extra = f", after a rerun: {v['after_rerun']}" if "after_rerun" in v else ""
        lines.append(f"| {name} during speak | exit {v['exit']}, left: {v['left'] or 'nothing'}{extra} |")
    lines.append(f"| full verification, bundle ({ver['bundle_mb']} MiB) | first {ver['bundle_first_verify_s']:.3f} s, "
                 f"repeat {ver['bundle_repeat_verify_s']:.4f} s (size-only {ver['bundle_size_only_s']:.4f} s); engine "
                 f"load, repeat with full {ver['engine_repeat_load_full_s']:.2f} s vs size-only "
                 f"{ver['engine_load_size_s']:.2f} s |")
    if "big_file_gb" in ver:
        lines.append(f"| full verification, one {ver['big_file_gb']:g} GiB file (sparse) | first "
                     f"{ver['big_first_verify_s']:.2f} s, repeat {ver['big_repeat_verify_s']:.4f} s |")
    for k, v in r.items():
        for key in ("crashes", "bad", "missed", "loaded"):
            for item in v.get(key, [])[:5]:
                lines.append(f"| {k} failure | {item} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
