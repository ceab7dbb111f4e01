"""`vox-edge` command line. Subcommands import their implementation lazily, so `speak` never loads torch.

Every failure is one line on stderr and a non-zero exit, never a traceback: typed errors (VoxEdgeError) exit with
their code, a bad argument with 2, SIGINT / SIGTERM / SIGHUP with 128 + the signal number after the command has
removed what it had half written, anything else with 1 (VOX_EDGE_TRACEBACK=1 shows its traceback).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, NoReturn

from .cli_args import float_in, int_in
from .config import CFG_ALPHA_RANGE, MAX_FLOW_STEPS, NOISE_SCALE_RANGE, REPETITION_STOP_SECONDS_RANGE
from .errors import ConfigError, ExportError, VoxEdgeError


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the usage itself is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class Interrupted(KeyboardInterrupt):
    """SIGTERM / SIGHUP, raised like SIGINT's KeyboardInterrupt so the same cleanup runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def _writable_target(path: str, what: str) -> None:
    """A new file or folder can be made at `path` (its parent is a writable folder), before long work starts."""
    parent = Path(os.path.abspath(path)).parent
    if not parent.is_dir():
        raise ExportError(f"{what} {path}: folder {parent} does not exist; create it first or choose another path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"{what} {path}: no permission to write in {parent}; choose a writable path.")


def _component_precision(s: str) -> tuple[str, str]:
    from .manifest import COMPONENTS

    component, sep, precision = s.partition("=")
    if not sep or component not in COMPONENTS or not precision:
        raise argparse.ArgumentTypeError(f"{s!r}: expected COMPONENT=PRECISION with COMPONENT one of "
                                         f"{', '.join(COMPONENTS)}, e.g. backbone=int4")
    return component, precision


def _cmd_make_checkpoint(args: argparse.Namespace) -> int:
    import resource
    import time

    from vox_edge.export.synthetic import make_checkpoint

    try:
        custom = json.loads(args.dims) if args.dims else {}
    except json.JSONDecodeError as e:
        raise ConfigError(f"--dims is not valid JSON ({e}); e.g. --dims '{{\"dim\": 256, \"n_layers\": 4}}'.") from None
    if not isinstance(custom, dict):
        raise ConfigError(f"--dims must be a JSON object of params.json overrides, got {args.dims!r}.")
    _writable_target(args.out, "make-checkpoint")
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


def _profile_specs(args: argparse.Namespace, say: Callable[[str], None]) -> tuple[str, dict[str, str], str | None]:
    """--profile: the profile's kernel choice for the device's ISA -> (precision, per-component specs, NPU target).
    --component-precision still overrides a component; --precision with --profile is refused (two answers)."""
    from .device_profiles import choose, host_isa, host_profile, load_profile

    if args.profile == "auto":
        prof = host_profile()
        if prof is None:
            raise ConfigError("--profile auto: no bundled device profile matches this machine; name one or pass a .toml.")
    else:
        prof = load_profile(args.profile)
    if args.precision is not None:
        raise ConfigError(f"--precision and --profile both say what to export; drop --precision (profile {prof.name} "
                          "chooses) or override one component with --component-precision.")
    isa_arg = args.isa or ("host" if args.profile == "auto" else "profile")
    if isa_arg == "profile":
        isa, where = prof.hardware.isa, "the profile's hardware.isa"
    elif isa_arg == "host":
        isa, where = host_isa(prof.hardware.arch), "detected on this machine"
    else:
        from .device_profiles import ISA_FEATURES

        isa, where = tuple(x.strip() for x in isa_arg.split(",") if x.strip()), "given with --isa"
        bad = [x for x in isa if x not in ISA_FEATURES[prof.hardware.arch]]
        if bad:
            raise ConfigError(f"--isa: {', '.join(bad)} not an ISA feature of {prof.hardware.arch}; use 'profile', "
                              f"'host' or names from {', '.join(ISA_FEATURES[prof.hardware.arch])}.")
    choice = choose(prof.model, isa)
    specs = {**choice.specs(), **dict(args.component_precision or [])}
    say(f"[export] profile {prof.name}, ISA {', '.join(isa) or '(none listed)'} ({where}): "
        + ", ".join(f"{c}={p}" for c, p in specs.items()))
    say(f"[export] kernels: {' '.join(choice.why.split())}")
    return "fp32", specs, prof.runtime.npu_target


def _cmd_export(args: argparse.Namespace) -> int:
    from vox_edge.export.bundle import export_bundle

    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    per = dict(args.component_precision or [])
    precision, target = args.precision or "fp32", args.target
    if args.isa and not args.profile:
        raise ConfigError("--isa chooses among a device profile's kernels: give --profile too.")
    if args.profile:
        precision, per, npu_target = _profile_specs(args, say)
        target = target or npu_target
    if not Path(args.checkpoint).is_dir():
        raise ExportError(f"{args.checkpoint}: checkpoint directory not found (params.json, consolidated.safetensors, "
                          "tekken.json); make one with `vox-edge make-checkpoint` or download the release.")
    _writable_target(args.bundle, "export")
    synthesis = {k: v for k, v in (("cfg_alpha", args.cfg_alpha), ("noise_scale", args.noise_scale),
                                   ("min_flow_steps", args.min_flow_steps),
                                   ("repetition_stop_seconds", args.repetition_stop_seconds)) if v is not None}
    shapes = None
    if target:
        from vox_edge.export.npu_target import NpuShapes

        shapes = NpuShapes(seq_len=args.prefill_chunk, context=args.context)
    export_bundle(args.checkpoint, args.bundle, precision=precision, per_component=per,
                  static_shapes=args.static_shapes, progress=say, synthesis=synthesis, target=target, npu_shapes=shapes,
                  work_dir=args.work_dir)
    return 0


def _runtime_cmd(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from vox_edge.runtime import cli_commands

        return getattr(cli_commands, name)(args)
    return run


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="vox-edge", description="Offline on-device Voxtral-architecture TTS.")
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
    ex.add_argument("--precision", choices=["fp32", "fp16", "int8", "int4"],
                    help="every component's precision (default fp32; not with --profile)")
    ex.add_argument("--profile", help="a device profile (name, .toml path or 'auto'): export the precisions and kernels "
                         "its [[model.kernels]] choose for the device's ISA (e.g. dev-vm-2core-x86-voxtral-4b)")
    ex.add_argument("--isa", help="--profile: whose ISA picks the kernels: 'profile' (its hardware.isa, the default), "
                         "'host' (this machine's, detected; the default with --profile auto) or a comma list, "
                         "e.g. avx2,avx512_vnni")
    ex.add_argument("--component-precision", nargs="*", metavar="COMPONENT=PRECISION", type=_component_precision,
                    help="per component override, e.g. backbone=int4 acoustic=int8 codec=fp32; backbone "
                         "options as suffixes: -gqa / -plain attention, -shared (in-place KV cache), -b128 (int4 block)")
    ex.add_argument("--static-shapes", action="store_true", help="fixed-shape flow/codec graphs (see --target)")
    ex.add_argument("--target", choices=["qnn-htp", "openvino"],
                    help="a bundle an NPU provider runs whole: fixed shapes, standard ops, calibrated QDQ (A16W8 for "
                         "qnn-htp; for openvino the weight MatMuls, A16W8 in the backbone and flow_velocity, A8W8 "
                         "elsewhere); --precision does not apply")
    ex.add_argument("--context", type=int_in(16, 131072), default=1024,
                    help="--target: KV cache capacity in positions (voice prefix + text + frames), default 1024")
    ex.add_argument("--prefill-chunk", type=int_in(1, 512), default=16,
                    help="--target: backbone positions per call (prompt chunk; a frame is padded to it), default 16")
    ex.add_argument("--work-dir", help="--target: keep the quantisation's finished steps (calibration feeds, layer "
                         "shards, graphs) under this folder; the same command run again after a kill continues "
                         "from them")
    ex.add_argument("--cfg-alpha", type=float_in(*CFG_ALPHA_RANGE),
                    help="this model's default guidance strength (manifest synthesis)")
    ex.add_argument("--noise-scale", type=float_in(*NOISE_SCALE_RANGE),
                    help="this model's default flow start-noise scale (manifest synthesis)")
    ex.add_argument("--min-flow-steps", type=int_in(1, MAX_FLOW_STEPS), metavar="N",
                    help="the fewest flow (Euler) steps per frame this model was measured to need (manifest "
                         "synthesis): a device profile's fewer steps are raised to N; default: no floor")
    ex.add_argument("--repetition-stop-seconds", type=float_in(*REPETITION_STOP_SECONDS_RANGE), metavar="S",
                    help="turn on the repetition safety net for this model (manifest synthesis): semantic codes "
                         "cycling through a few values for S seconds end a segment (1.25 for the default voice); "
                         "default: off")
    ex.set_defaults(func=_cmd_export)

    # Runtime and benchmark subcommands register themselves (their modules import no torch).
    if importlib.util.find_spec("vox_edge.runtime.cli_commands"):
        from vox_edge.runtime.cli_commands import add_runtime_commands

        add_runtime_commands(sub, _runtime_cmd)
    if importlib.util.find_spec("vox_edge.runtime.ep_check_cli"):
        from vox_edge.runtime.ep_check_cli import add_check_ep_command

        add_check_ep_command(sub)
    if importlib.util.find_spec("vox_edge.runtime.text.cli_text"):
        from vox_edge.runtime.text.cli_text import add_text_command

        add_text_command(sub)
    if importlib.util.find_spec("vox_edge.benchmarks.cli_bench"):
        from vox_edge.benchmarks.cli_bench import add_bench_command

        add_bench_command(sub)
    return p


def _one_line(message: Any) -> str:
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handled = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else (signal.SIGTERM,)
    previous = {}
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        previous = {s: signal.signal(s, _raise_interrupted) for s in handled}
    try:
        return int(args.func(args) or 0)
    except VoxEdgeError as e:
        print(f"vox-edge: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt as e:
        signum = e.signum if isinstance(e, Interrupted) else signal.SIGINT
        print(f"vox-edge: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + int(signum)
    except OSError as e:  # a file-system failure the command did not foresee: still one line
        where = f"{e.filename}: " if e.filename else ""
        print(f"vox-edge: error: {where}{_one_line(e.strerror or e)}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - the boundary: a bug still gets one line, not a traceback
        if os.environ.get("VOX_EDGE_TRACEBACK"):
            raise
        print(f"vox-edge: error: unexpected {type(e).__name__}: {_one_line(e)} (a vox-edge bug: please report it; "
              "VOX_EDGE_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 1
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


if __name__ == "__main__":
    sys.exit(main())
