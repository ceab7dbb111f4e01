"""`vox-edge` command line. Subcommands import their implementation lazily, so `speak` never loads torch.

Typed errors (VoxEdgeError) print one line to stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from typing import Callable

from .errors import VoxEdgeError


def _cmd_make_checkpoint(args: argparse.Namespace) -> int:
    import resource
    import time

    from vox_edge.export.synthetic import make_checkpoint

    custom = json.loads(args.dims) if args.dims else {}
    t0 = time.perf_counter()
    done = [0]

    def progress(name: str) -> None:
        done[0] += 1
        if args.verbose or name.endswith("norm.weight") and name.startswith("layers.") and ".ffn_norm" in name:
            print(f"  [{done[0]}] {name}", file=sys.stderr, flush=True)

    out = make_checkpoint(args.out, scale=args.scale, seed=args.seed, end_logit_scale=args.end_logit_scale,
                          progress=progress, **custom)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wrote {out} (scale={args.scale}, seed={args.seed}) in {time.perf_counter() - t0:.1f} s, peak RSS {rss_mb:.0f} MB")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from vox_edge.export.bundle import export_bundle

    per = dict(kv.split("=", 1) for kv in args.component_precision or [])
    synthesis = {k: v for k, v in (("cfg_alpha", args.cfg_alpha), ("noise_scale", args.noise_scale)) if v is not None}
    export_bundle(args.checkpoint, args.bundle, precision=args.precision, per_component=per,
                  static_shapes=args.static_shapes, progress=lambda m: print(m, file=sys.stderr, flush=True),
                  synthesis=synthesis)
    return 0


def _runtime_cmd(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from vox_edge.runtime import cli_commands

        return getattr(cli_commands, name)(args)
    return run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vox-edge", description="Offline on-device Voxtral-architecture TTS.")
    sub = p.add_subparsers(dest="command", required=True)

    mk = sub.add_parser("make-checkpoint", help="write a synthetic checkpoint in the exact real Voxtral format")
    mk.add_argument("out")
    mk.add_argument("--scale", choices=["tiny", "small", "full"], default="tiny")
    mk.add_argument("--seed", type=int, default=0)
    mk.add_argument("--dims", help='JSON overrides, e.g. \'{"dim": 256, "n_layers": 4, "acoustic": {"n_layers": 1}}\'')
    mk.add_argument("--end-logit-scale", type=float, default=0.0,
                    help="END_AUDIO row scale: 0 = never stops on its own (demand frames with max_frames), 1 = like any code")
    mk.add_argument("-v", "--verbose", action="store_true")
    mk.set_defaults(func=_cmd_make_checkpoint)

    ex = sub.add_parser("export", help="export a checkpoint to an ONNX bundle the runtime can load")
    ex.add_argument("checkpoint")
    ex.add_argument("bundle")
    ex.add_argument("--precision", choices=["fp32", "fp16", "int8", "int4"], default="fp32")
    ex.add_argument("--component-precision", nargs="*", metavar="COMPONENT=PRECISION",
                    help="per component override, e.g. backbone=int4 acoustic=int8 codec=fp32; backbone "
                         "options as suffixes: -gqa / -plain attention, -shared (in-place KV cache), -b128 (int4 block)")
    ex.add_argument("--static-shapes", action="store_true", help="fixed-shape graphs for NPU execution providers")
    ex.add_argument("--cfg-alpha", type=float, help="this model's default guidance strength (manifest synthesis)")
    ex.add_argument("--noise-scale", type=float, help="this model's default flow start-noise scale (manifest synthesis)")
    ex.set_defaults(func=_cmd_export)

    # Runtime and benchmark subcommands register themselves (their modules import no torch).
    if importlib.util.find_spec("vox_edge.runtime.cli_commands"):
        from vox_edge.runtime.cli_commands import add_runtime_commands

        add_runtime_commands(sub, _runtime_cmd)
    if importlib.util.find_spec("vox_edge.benchmarks.cli_bench"):
        from vox_edge.benchmarks.cli_bench import add_bench_command

        add_bench_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VoxEdgeError as e:
        print(f"vox-edge: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("vox-edge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
