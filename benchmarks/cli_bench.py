"""`vox-edge bench BUNDLE --profile P`: latency benchmark against a device profile's targets.

    vox-edge bench bundle/ --profile dev-vm-2core-x86 --utterances 20 --json bench.json --png bench.png

Exit status: 0 when every target of the profile holds (RTF, TTFA p50/p95, peak RSS), 1 otherwise (the
failed targets are printed); --no-targets always exits 0. The roofline's bandwidth is measured at the bench's own
thread count with the kernels the bundle runs; each stage's achieved GB/s is reported against it and against the
backbone step's; the load average before the run is recorded, with a warning when the machine is not quiet. Registered by `vox_edge.cli`; this module and
everything it imports stay free of torch (checked by tests/test_bench.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from vox_edge.cli_args import float_in, int_in, name
from vox_edge.config import MAX_FLOW_STEPS, SEED_RANGE


def add_bench_command(subparsers: Any) -> None:
    bp = subparsers.add_parser("bench", help="benchmark a bundle against a device profile (TTFA, RTF, roofline)",
                               description=__doc__.split("\n\n")[0])
    bp.add_argument("bundle", metavar="BUNDLE")
    bp.add_argument("--profile", required=True, help="device profile name, .toml path, or 'auto' (the bundled profile of this machine); "
                         "its targets decide the exit status")
    bp.add_argument("--utterances", "-n", type=int_in(1), default=10, help="measured utterances (default 10)")
    bp.add_argument("--warmup", type=int_in(0), default=2, help="unmeasured utterances first (default 2)")
    bp.add_argument("--max-frames", type=int_in(0), default=40,
                    help="frame budget per utterance (default 40 = 3.2 s); 0 = until END (real checkpoints only: "
                         "synthetic weights never stop on their own)")
    bp.add_argument("--threads", type=int_in(1), help="ORT intra-op threads (default: the profile's)")
    bp.add_argument("--flow-steps", type=int_in(1, MAX_FLOW_STEPS), help="flow Euler steps per frame, run as given "
                    "(default: the profile's, raised to the bundle's min_flow_steps)")
    bp.add_argument("--voice", type=name, help="voice (default: the bundle's default voice)")
    bp.add_argument("--seed", type=int_in(*SEED_RANGE), default=0)
    bp.add_argument("--corpus", type=Path, help="text file, one utterance per line (default: benchmarks/corpus.txt)")
    bp.add_argument("--verify", choices=["full", "size", "none"], default="size",
                    help="bundle integrity check at load (default size; full hashes every file and inflates load time)")
    bp.add_argument("--bandwidth-gbs", type=float_in(1e-3, 1e5), help="use this memory bandwidth instead of measuring it")
    bp.add_argument("--bandwidth-mb", type=int_in(1, 1 << 16), default=1024, help="size of the bandwidth probe array (MiB)")
    bp.add_argument("--ort-bandwidth", action=argparse.BooleanOptionalAction, default=True,
                    help="measure the stream rate of the bundle's own kernels (ORT MatMul chains at the bench's thread "
                         "count, ~10 s each) as well as the numpy read: on by default; --no-ort-bandwidth skips it")
    bp.add_argument("--kernel-mb", type=int_in(1, 1 << 16), default=256, help="weight MiB per kernel chain (default 256)")
    bp.add_argument("--settle", type=float_in(0, 3600), default=0.0, metavar="SECONDS",
                    help="wait up to SECONDS for the 1-minute load to settle before measuring (after an export or "
                         "another run: the load average still counts it for minutes); default 0 = do not wait")
    bp.add_argument("--settle-background", type=float_in(0, 1e4), metavar="LOAD",
                    help="with --settle: the 1-minute load before your own work started; settled = at most the "
                         "quiet threshold or LOAD + 0.25")
    bp.add_argument("--prefill-graph", action=argparse.BooleanOptionalAction, default=True,
                    help="prompts through the bundle's backbone_prefill graph where it has one (default); "
                         "--no-prefill-graph prefills with the backbone (what the prompt graph gains)")
    bp.add_argument("--json", type=Path, metavar="OUT.json", help="write every measurement as JSON")
    bp.add_argument("--png", type=Path, metavar="OUT.png", help="write a plot (needs matplotlib)")
    bp.add_argument("--no-targets", action="store_true", help="exit 0 whatever the targets say")
    bp.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    bp.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    from . import report, targets
    from .runner import BenchSettings, run

    from vox_edge.runtime.wav import check_output_path

    for flag, path in (("--json", args.json), ("--png", args.png)):
        if path is not None:  # a bad path fails now, not after minutes of measuring
            check_output_path(path, flag)

    def log(msg: str) -> None:
        if not args.quiet:
            print(f"bench: {msg}", file=sys.stderr, flush=True)

    s = BenchSettings(bundle=Path(args.bundle), profile=args.profile, utterances=args.utterances, warmup=args.warmup,
                      max_frames=args.max_frames or None, threads=args.threads, flow_steps=args.flow_steps,
                      voice=args.voice, seed=args.seed, verify=args.verify, corpus=args.corpus,
                      bandwidth_gbs=args.bandwidth_gbs, bandwidth_mb=args.bandwidth_mb,
                      ort_bandwidth=args.ort_bandwidth, kernel_mb=args.kernel_mb, settle_s=args.settle,
                      settle_background=None if args.settle_background is None else [args.settle_background],
                      prefill_graph=args.prefill_graph)
    result = run(s, log)
    print(report.table(result))
    if args.png:
        from .plot import PlotUnavailable, write_png

        try:
            write_png(result, args.png)
            result["png"] = str(args.png)
        except PlotUnavailable as e:
            print(f"vox-edge: warning: no PNG: {e}", file=sys.stderr)
            result["png"] = None
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    failed = targets.failures(result)
    for line in failed:
        print(f"target failed: {line}", file=sys.stderr)
    return 0 if args.no_targets or not failed else 1
