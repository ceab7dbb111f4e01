"""`vox-edge speak | voices | info`: the runtime's CLI commands. No torch, and onnxruntime only once a command runs.

    vox-edge speak "Turn left in 200 meters." --bundle B --out turn.wav
    echo "Hello." | vox-edge speak - --bundle B --play
    vox-edge voices --bundle B
    vox-edge info B

Without --bundle they use the model packaged with vox-edge (`vox_edge/assets/default_bundle`); what was measured of
it (`default_bundle.quality.json`, written by training/ship/default.py: release or preview, WER) is shown by
`voices` and `info`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from vox_edge.config import (CFG_ALPHA_RANGE, DEFAULT_MAX_TEXT_BYTES, MAX_AUDIO_SECONDS_RANGE, MAX_FLOW_STEPS,
                             NOISE_SCALE_RANGE, SEED_RANGE, SynthesisOptions)
from vox_edge.cli_args import float_in, int_in, name
from vox_edge.errors import ManifestError, TextError

from .cli_input import NOTHING_TO_SPEAK, read_text

DEFAULT_BUNDLE_PARTS = ("assets", "default_bundle")
VERIFY_HELP = ("bundle integrity check at load: full (default) = sha256 of every file, remembered per file until it "
               "changes so a repeat load only stats; size = sizes only; none")


_positive_int = int_in(1)


def _language(s: str) -> str:
    from .text.language import LANGUAGES

    if s != "auto" and s not in LANGUAGES:
        raise argparse.ArgumentTypeError(f"unknown language {s!r}; one of {', '.join(LANGUAGES)}, or auto")
    return s


def add_runtime_commands(subparsers: Any, make_cmd: Callable[[str], Callable[[argparse.Namespace], int]]) -> None:
    sp = subparsers.add_parser("speak", help="synthesise text to a WAV file and/or the sound card")
    sp.add_argument("text", nargs="?", help='the text to speak; "-" reads it from stdin')
    sp.add_argument("--text-file", metavar="FILE", help="read the text from a UTF-8 file")
    sp.add_argument("--out", "-o", metavar="FILE.wav", help="write 16-bit PCM mono WAV")
    sp.add_argument("--play", action="store_true", help="play through the default audio output while generating")
    sp.add_argument("--voice", type=name,
                    help="voice name (see `vox-edge voices`); default: the bundle's default voice")
    _bundle_args(sp)
    sp.add_argument("--seed", type=int_in(*SEED_RANGE), default=0, help="noise seed (same seed, same audio); default 0")
    sp.add_argument("--flow-steps", type=int_in(1, MAX_FLOW_STEPS),
                    help=f"Euler steps per frame, 1..{MAX_FLOW_STEPS}, run as given (default: profile / model, raised "
                         "to the bundle's min_flow_steps)")
    sp.add_argument("--cfg-alpha", type=float_in(*CFG_ALPHA_RANGE),
                    help="guidance strength, 1 = none (default: profile, else the bundle's own, else 1.2)")
    sp.add_argument("--noise-scale", type=float_in(*NOISE_SCALE_RANGE),
                    help="flow start-noise scale, below 1 = clearer, less varied (default: the bundle's own, else 1.0)")
    sp.add_argument("--max-frames", type=_positive_int, help="cap on generated frames (12.5 per second of audio)")
    sp.add_argument("--max-audio-seconds", type=float_in(*MAX_AUDIO_SECONDS_RANGE),
                    help="ceiling of the audio one request may make (default: profile, else 3600); the text's own "
                         "budget (10 s + 0.5 s per character as written) applies below it")
    sp.add_argument("--max-text-bytes", type=_positive_int, default=DEFAULT_MAX_TEXT_BYTES,
                    help=f"refuse text longer than this many UTF-8 bytes (default {DEFAULT_MAX_TEXT_BYTES})")
    sp.add_argument("--lang", type=_language, help="text front-end language, or auto (default: from the voice name, else en)")
    sp.add_argument("--lexicon", metavar="FILE.tsv", help="user lexicon: word<TAB>spoken form (docs/text.md)")
    sp.add_argument("--lenient-ssml", action="store_true", help="ignore unsupported SSML with a warning")
    sp.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    sp.set_defaults(func=make_cmd("speak"))

    vp = subparsers.add_parser("voices", help="list the voices of a bundle")
    _bundle_args(vp, profile=False)
    vp.set_defaults(func=make_cmd("voices"))

    ip = subparsers.add_parser("info", help="summarise a bundle's manifest (dims, precisions, sizes, origin)")
    ip.add_argument("bundle_dir", metavar="BUNDLE", nargs="?", default=None, help="default: the packaged model")
    ip.add_argument("--verify", choices=["full", "size", "none"], default="full", help=VERIFY_HELP)
    ip.set_defaults(func=make_cmd("info"))


def _bundle_args(p: argparse.ArgumentParser, profile: bool = True) -> None:
    p.add_argument("--bundle", metavar="DIR", help="bundle directory (from `vox-edge export`)")
    if profile:
        p.add_argument("--profile", help="device profile name, .toml path, or 'auto' (this machine's, if one fits); "
                            "default: plain CPU settings")
    p.add_argument("--verify", choices=["full", "size", "none"], default="full", help=VERIFY_HELP)


# --- helpers ---------------------------------------------------------------------------------------

def default_bundle() -> Path | None:
    """The bundle packaged with vox-edge (vox_edge/assets/default_bundle), if this install has one."""
    try:
        root = resources.files("vox_edge").joinpath(*DEFAULT_BUNDLE_PARTS)
    except (ModuleNotFoundError, TypeError):
        return None
    if root.is_dir() and root.joinpath("manifest.json").is_file():
        return Path(str(root))
    return None


def quality_note(bundle: Path) -> str | None:
    """One line from the packaging record next to a bundle (<bundle>.quality.json), if it has one."""
    import json

    try:
        r = json.loads(bundle.with_name(bundle.name + ".quality.json").read_text(encoding="utf-8"))
        note = (f"{r['status']}: Whisper tiny.en WER {100 * r['wer_int8']:.1f} % on {r['sentences']} held-out "
                f"sentences ({100 * r['words_heard_int8']:.0f} % of words heard), target <= {100 * r['targets']['wer']:.0f} %")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        return f"unreadable quality record ({e}); reinstall vox-edge"
    return note + (f"; below target: {'; '.join(r['failed_gates'])}" if r.get("failed_gates") else "")


def _bundle_path(given: str | None) -> Path:
    if given:
        return Path(given)
    found = default_bundle()
    if found is None:
        raise ManifestError("no --bundle given, and this vox-edge install has no default model yet: pass "
                            "--bundle DIR (make one with `vox-edge export CHECKPOINT DIR`).")
    return found


def _one_line_warnings() -> None:
    """Warnings (e.g. an execution provider falling back to CPU) as single `vox-edge: warning:` lines."""
    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001 - warnings API
        print(f"vox-edge: warning: {message}", file=sys.stderr, flush=True)

    warnings.showwarning = show


# --- commands --------------------------------------------------------------------------------------

def speak(args: argparse.Namespace) -> int:
    if not args.out and not args.play:
        raise TextError("speak needs somewhere to put the audio: --out FILE.wav and/or --play.")
    text = read_text(args.text, args.text_file, args.max_text_bytes)
    if args.out:  # a bad path fails now, not after loading and generating
        from .wav import check_output_path

        check_output_path(args.out)
    sd = None
    if args.play:  # fail on a missing device before spending time on loading and generating
        from .playback import open_sounddevice

        sd = open_sounddevice()
    _one_line_warnings()
    from .engine import load

    engine = load(_bundle_path(args.bundle), profile=args.profile, verify=args.verify)
    options = SynthesisOptions(voice=args.voice, seed=args.seed, flow_steps=args.flow_steps, cfg_alpha=args.cfg_alpha,
                               noise_scale=args.noise_scale, max_frames=args.max_frames, lang=args.lang,
                               lexicon=args.lexicon, lenient_ssml=args.lenient_ssml,
                               max_audio_seconds=args.max_audio_seconds)
    stream = engine.stream(text, options)
    writer = player = None
    last = None
    try:
        if args.out:
            from .wav import WavWriter

            writer = WavWriter(args.out, engine.sample_rate)
        if sd is not None:
            from .playback import Player

            player = Player(sd, engine.sample_rate)
        n = 0
        for chunk in stream:
            if chunk.segment < 0:  # the empty closing chunk of a call whose text normalised to nothing
                raise TextError(NOTHING_TO_SPEAK)
            if writer:
                writer.write(chunk.samples)
            if player:
                player.write(chunk.samples)
            n += chunk.samples.shape[0]
            last = chunk
    except BaseException:
        if writer:
            writer.close(keep=False)
        writer = None
        raise
    finally:
        if writer:
            writer.close()
        if player:
            player.close()
    if not args.quiet and last is not None:
        secs = n / engine.sample_rate
        where = f"wrote {args.out}" if args.out else "played"
        ttfa = f"{last.t_first * 1000:.0f} ms" if last.t_first is not None else "-"
        rtf = f"{last.elapsed / secs:.2f}" if secs else "-"
        print(f"{where}: {secs:.2f} s of audio at {engine.sample_rate} Hz, voice {options.voice or engine.default_voice}, "
              f"first audio after {ttfa}, RTF {rtf}", file=sys.stderr)
    return 0


def voices(args: argparse.Namespace) -> int:
    from vox_edge.manifest import load_manifest

    path = _bundle_path(args.bundle)
    m = load_manifest(path, verify=args.verify)
    for name in sorted(m.voices):
        print(f"{name}{'  (default)' if name == m.default_voice else ''}")
    note = quality_note(path)
    if note:
        print(f"quality of this model: {note}", file=sys.stderr)
    return 0


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def info(args: argparse.Namespace) -> int:
    from vox_edge.manifest import load_manifest

    path = _bundle_path(args.bundle_dir)
    m = load_manifest(path, verify=args.verify)
    c, d = m.config, m.data
    files = d["files"]

    def graph_bytes(g) -> int:
        return sum(meta["size"] for rel, meta in files.items() if rel == g.file or rel.startswith(g.file + "."))

    total = sum(meta["size"] for meta in files.values())
    lines = [
        f"bundle      {m.root}",
        f"format      {d['format']} schema v{d['schema_version']}, {len(files)} files, {_size(total)}"
        f" (integrity: {args.verify})",
        "target      " + (f"{m.target['name']} (fixed shapes: {m.target['seq_len']} positions per backbone call, KV "
                          f"capacity {m.target['context']}, codec window {m.target['codec_frames']} frames; check with "
                          f"`vox-edge check-ep`)" if m.target["name"] != "cpu" else "cpu (any onnxruntime provider)"),
        f"backbone    dim {c.dim}, {c.n_layers} layers, heads {c.n_heads}/{c.n_kv_heads} kv, head_dim {c.head_dim}, "
        f"ffn {c.hidden_dim}, vocab {c.vocab_size}",
        f"acoustic    dim {c.acoustic.dim}, {c.acoustic.n_layers} layers, {c.acoustic.n_decoding_steps} flow steps, "
        f"codes 1+{c.n_acoustic_codebook} (semantic {c.semantic_codebook_size}, acoustic {c.acoustic_codebook_size} levels)",
        f"codec       dim {c.codec.dim}, {sum(c.codec.decoder_transformer_lengths)} layers, {c.sampling_rate} Hz, "
        f"{c.frame_rate:g} frames/s ({c.samples_per_frame} samples/frame)",
        "graphs",
    ]
    for name, g in m.graphs.items():
        extra = (", static shapes" if g.static_shapes else "") + (", KV cache in place" if g.kv_cache == "shared" else "") \
            + (", fixed-capacity KV cache" if g.kv_cache == "static" else "") \
            + "".join(f", optional input {i}" for i in g.optional_inputs) \
            + (", placed on the CPU by the bundle" if name in m.cpu_placed else "")
        lines.append(f"  {name:<15} {g.precision:<5} opset {g.opset:<3} {_size(graph_bytes(g)):>10}  {g.file}{extra}")
    lines.append(f"voices      {', '.join(sorted(m.voices))} (default {m.default_voice})")
    if m.lexicon:
        from .text.lexicon import Lexicon

        lines.append(f"lexicon     {m.lexicon}, {len(Lexicon.from_file(m.path(m.lexicon))):,} words "
                     "(applied to the text before the tokenizer)")
    else:
        lines.append("lexicon     none (the tokenizer reads the text as written)")
    lines.append("notices     " + (", ".join(m.notices) + " (licences of data the bundle carries)" if m.notices
                                   else "none"))
    syn = {k: v for k, v in m.synthesis.items() if k != "min_flow_steps"}
    lines.append("sampling    " + (", ".join(f"{k} {v:g}" for k, v in syn.items()) + " (the model's defaults)"
                                   if syn else "reference defaults (cfg_alpha 1.2, noise_scale 1)"))
    floor = m.min_flow_steps
    lines.append("flow floor  " + (f"min_flow_steps {floor} (measured for this model: a device profile's fewer flow "
                                   "steps are raised to it; an explicit --flow-steps runs as given, with a warning)"
                                   if floor else "none (a device profile's flow_steps applies as is)"))
    note = quality_note(path)
    if note:
        lines.append(f"quality     {note}")
    exp, src = d.get("exporter", {}), d.get("source", {})
    lines.append("exporter    " + (", ".join(f"{k} {v}" for k, v in exp.items()) or "-"))
    lines.append("source      " + (", ".join(f"{k} {v}" for k, v in src.items()) or "-"))
    print("\n".join(lines))
    return 0
