"""`vox-edge check-ep BUNDLE --provider P`: the command line of runtime/ep_check.py (exit 1 when the check fails)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from vox_edge.cli_args import int_in

PROVIDERS = ("QNNExecutionProvider", "OpenVINOExecutionProvider")


def _option(s: str) -> tuple[str, str]:
    key, sep, value = s.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{s!r}: expected KEY=VALUE, e.g. htp_performance_mode=burst")
    return key, value


def add_check_ep_command(subparsers: Any) -> None:
    p = subparsers.add_parser("check-ep", help="check that an execution provider runs a bundle whole, and right")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("--provider", required=True, choices=PROVIDERS)
    p.add_argument("--option", action="append", type=_option, default=[], metavar="KEY=VALUE",
                   help="provider option over the profile's and the defaults (e.g. soc_model=39, device_type=NPU)")
    p.add_argument("--profile", help="device profile whose provider options and CPU-placed graphs apply")
    p.add_argument("--reference", metavar="BUNDLE",
                   help="CPU reference bundle of the same checkpoint (an FP32 export); default: BUNDLE on the CPU")
    p.add_argument("--frames", type=int_in(2, 1000), default=20, help="frames of the parity run (default 20)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import onnxruntime as ort

    from .ep_check import check_bundle

    ort.set_default_logger_severity(4)  # the providers' own refusal logs: the report names what matters

    options: dict[str, str] = {}
    cpu_graphs: dict[str, str] = {}
    if args.profile:
        from vox_edge.device_profiles import load_profile

        rt = load_profile(args.profile).runtime
        options.update(getattr(rt, "provider_options", {}).get(args.provider, {}))
        cpu_graphs.update(getattr(rt, "cpu_graphs", {}))
    options.update(dict(args.option))
    report = check_bundle(args.bundle, args.provider, options, reference=args.reference, cpu_graphs=cpu_graphs,
                          frames=args.frames, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(report.text())
    return 0 if report.ok else 1
