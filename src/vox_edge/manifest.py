"""The one contract between export and runtime: a bundle directory and its versioned manifest.json.

    BUNDLE/
      manifest.json              this contract (schema_version below)
      <graph>.onnx [+ .onnx.data]  ONNX graphs, I/O names listed per graph
      arrays/*.npy               plain arrays (audio codebook table, text embedding table)
      voices/<name>.npy          voice prompt embeddings [N, D] float32
      tekken.json                tokenizer
      lexicon.tsv.gz             optional pronunciation lexicon (`tokenizer.lexicon`): the runtime applies it to each
                                 normalised text segment before the tokenizer, as the model's training text was
      notices/*                  optional licence notices of data the bundle carries (`notices`, e.g. the lexicon's
                                 Apache-2.0 licence): informational, the runtime needs nothing from them

The runtime reads nothing but what the manifest lists, and checks every file's size and sha256 (a file that
passed is remembered by its size, times and inode: `verify_cache`). Every path a manifest names resolves inside
the bundle directory: absolute paths, '..' and symlinks that lead out are refused (`bundle_file`).
Standard library + numpy only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .config import (CFG_ALPHA_RANGE, MAX_FLOW_STEPS, NOISE_SCALE_RANGE, REPETITION_STOP_SECONDS_RANGE, CodecConfig,
                     ModelConfig)
from .errors import BundleConfinementError, BundleIntegrityError, ManifestError
from .verify_cache import VerifiedFiles

SCHEMA_VERSION = 1
# A bundle whose model reads phonemes (tokenizer.lexicon) is written as version 2, so that a vox-edge from before
# lexicons refuses it (re-export / upgrade) instead of feeding its model raw text; lexicon-free bundles stay 1.
LEXICON_SCHEMA_VERSION = 2
# Version 3: the backbone may keep its KV cache in place (graphs.backbone.kv_cache = "shared": an extra
# `past_length` input, past and present bound to one buffer), the optional graph flow_euler may be present and
# graphs may declare optional inputs; an older vox-edge could use none of them and says so.
FEATURES_SCHEMA_VERSION = 3
# Version 4: a bundle may carry only what its runtime path uses: codec_decoder may be left out where codec_step is
# present (a CPU source_filter bundle streams through codec_step alone: STEP_ONLY_CODEC), and the audio code table
# may be int8 with a float32 scale per row (arrays.audio_codebook_embeddings dtype "int8" + `scale`: a .npy of
# [rows]), and the lexicon may be in its compact form (tokenizer.lexicon `*.xz`: xz, with derived entries,
# runtime/text/lexicon.py); an older vox-edge could read none of them and says so.
COMPACT_SCHEMA_VERSION = 4
READABLE_SCHEMA_VERSIONS = (SCHEMA_VERSION, LEXICON_SCHEMA_VERSION, FEATURES_SCHEMA_VERSION, COMPACT_SCHEMA_VERSION)
FORMAT = "vox-edge-bundle"
MANIFEST_FILE = "manifest.json"
PRECISIONS = ("fp32", "fp16", "int8", "int4")
COMPONENTS = ("backbone", "acoustic", "codec")

# Graph names, the component each belongs to, and their I/O names ({i} = layer index).
GRAPH_COMPONENT = {
    "backbone": "backbone",
    "backbone_prefill": "backbone",
    "flow_condition": "acoustic",
    "flow_time": "acoustic",
    "flow_velocity": "acoustic",
    "flow_euler": "acoustic",
    "codec_decoder": "codec",
    "codec_step": "codec",
    "codec_trunk": "codec",
}
# Graphs a bundle may leave out (the runtime then does their work another way).
OPTIONAL_GRAPHS = ("flow_euler", "backbone_prefill", "codec_step", "codec_trunk")
# A required graph a bundle may leave out where another is present (schema 4): name -> the graph that does its work.
# codec_decoder: the runtime streams a source_filter codec through codec_step on the CPU and never calls the windowed
# graph, so a CPU bundle needs only one of them (its codec weights once, without the ConvTranspose copies).
STEP_ONLY_CODEC = {"codec_decoder": "codec_step"}
# Array dtypes: float32 / float16 rows as they are; int8 rows times a float32 scale per row (`scale`, schema 4).
ARRAY_DTYPES = ("float32", "float16", "int8")
COMPACT_LEXICON_SUFFIX = ".xz"  # tokenizer.lexicon in the compact form (schema 4)
# Inputs with a default value that a graph entry may declare (`optional_inputs`, schema 3); a caller that does not
# feed one gets the graph's old behaviour. codec_decoder `context_frames` int64 [1] (default 0): the first frames
# are left context, decoded for their effect on the rest; audio is then [1, (T - context_frames)·spf]. A
# source_filter codec_decoder's `render_from` int64 [1] (default 0): its renderer parameters start at that frame.
OPTIONAL_INPUTS = {"codec_decoder": ("context_frames", "render_from")}
GRAPH_IO: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # inputs_embeds [1,S,D] f32, past_key_values.{i}.key/value [1,KV,P,hd] -> hidden_states [1,S,D] (final-normed),
    # present.{i}.key/value [1,KV,P+S,hd]. Positions are P..P+S-1 (P read from the past's shape).
    "backbone": (("inputs_embeds", "past_key_values.{i}.key", "past_key_values.{i}.value"),
                 ("hidden_states", "present.{i}.key", "present.{i}.value")),
    # Optional, schema 3: a second backbone graph for prompts (S > 1 positions), e.g. INT8 beside an INT4 backbone
    # (MatMulNBits is compute-bound at S > 1, DynamicQuantizeMatMul much less). It shares only the cache contract:
    # the backbone's I/O and kv_cache, so either graph continues a cache the other wrote (runtime/backbone.py).
    "backbone_prefill": (("inputs_embeds", "past_key_values.{i}.key", "past_key_values.{i}.value"),
                         ("hidden_states", "present.{i}.key", "present.{i}.value")),
    # hidden [B,D] -> semantic_logits [B,W] f32 (EMPTY and padding already -inf), llm_cond [B,D]
    "flow_condition": (("hidden",), ("semantic_logits", "llm_cond")),
    # t [N] f32 in [0,1] -> time_cond [N,D]
    "flow_time": (("t",), ("time_cond",)),
    # x_t [B,A], time_cond [B,D], llm_cond [B,D] -> velocity [B,A]
    "flow_velocity": (("x_t", "time_cond", "llm_cond"), ("velocity",)),
    # Optional, schema 3: the Euler loop of one frame around flow_velocity (an ONNX Loop; export/flow_loop.py).
    # x0 [1,A] (noise_scale · noise), llm_cond [1,D], time_cond [n,D], dt [n], cfg_mix [2] = (alpha, 1 - alpha)
    # -> x1 [1,A] before FSQ rounding
    "flow_euler": (("x0", "llm_cond", "time_cond", "dt", "cfg_mix"), ("x1",)),
    # codes int64 [1,T,1+A] in "-2 space" -> audio f32 [1, T*samples_per_frame]
    "codec_decoder": (("codes",), ("audio",)),
    # Optional, schema 3, dynamic-shape source_filter codecs: the stateful streaming codec (export/codec_step.py).
    # These names, then codec_step_states(codec) as inputs and "next." + each as outputs (codec_step_io).
    "codec_step": (("codes", "pos", "resample_lo", "resample_hi", "resample_w", "render_first", "render_end"),
                   ("lh", "theta", "ln", "lr", "phi", "f0")),
    # Optional, schema 3, fixed-window source_filter codecs of qnn-htp bundles: the codec split in two graphs
    # (export/npu_codec_split.py). codec_trunk (FP32, placed on the CPU: f0 feeds the renderer's pulse phase) takes
    # codes [1,T,1+A] and frame_mask [1,T] -> features [1,C,F] (zero on padded renderer frames), feature_mask
    # [1,1,F], f0 [1,F] Hz; codec_decoder is then the frame decoder: features, feature_mask -> SPLIT_DECODER_OUTPUTS.
    "codec_trunk": (("codes", "frame_mask"), ("features", "feature_mask", "f0")),
}
# A codec with the `source_filter` output head (params.json audio_tokenizer_args.output_head) returns renderer
# parameters instead of audio, per renderer frame (F = ceil(T·samples_per_frame / renderer_hop)): lh, theta, ln,
# lr, phi f32 [1, 601, F] and f0 f32 [1, F] in Hz; the runtime renders them (runtime/source_filter.py).
SOURCE_FILTER_OUTPUTS = ("lh", "theta", "ln", "lr", "phi", "f0")
SPLIT_DECODER_INPUTS = ("features", "feature_mask")  # codec_decoder's I/O beside a codec_trunk
SPLIT_DECODER_OUTPUTS = SOURCE_FILTER_OUTPUTS[:5]
# The backbone's KV cache: "grow" (the I/O above: present = past + S rows, a new array each call) or "shared"
# (past/present [1,KV,C,hd] are one preallocated buffer of capacity C, written in place; the graph takes the
# number of valid rows as an int64 [1] input `past_length`, right after inputs_embeds).
# "static" (NPU providers, fixed shapes; export/npu_graphs.py): past [1,KV,C,hd] is the runtime's buffer of capacity
# C, read only; after inputs_embeds come STATIC_KV_INPUTS: attention_mask [S,C+S] (0 visible, MASK_VALUE hidden) and
# the RoPE tables rope_cos / rope_sin [S,hd] of positions P..P+S-1; present.{i}.* [1,KV,S,hd] are the S new rows.
KV_CACHES = ("grow", "shared", "static")
PAST_LENGTH = "past_length"
STATIC_KV_INPUTS = ("attention_mask", "rope_cos", "rope_sin")
MASK_VALUE = -1000.0  # finite (a quantised graph cannot hold -inf), and exp(-1000) is 0 in float32
# Optional `target` of a bundle exported for an NPU provider: {"name": one of NPU_TARGETS, "seq_len": S (prefill
# chunk), "context": C (KV capacity), "codec_frames": T (codec window)}; absent = a CPU bundle.
NPU_TARGETS = ("qnn-htp", "openvino")
ARRAYS = ("audio_codebook_embeddings", "tok_embeddings")
# Optional `synthesis`: sampling defaults measured for this model (training/ship/default.py writes the bundled voice's);
# they sit below per-call options and device profiles, above the reference's built-in values. `min_flow_steps` (an
# integer) is the fewest Euler steps per frame the model was measured to need: the engine raises a device profile's
# (or the model's own default) flow_steps to it; only a per-call flow_steps may go below it (runtime/engine.py).
# `repetition_stop_seconds` turns on the repetition safety net (vox_edge.config REPETITION_*) with that window,
# measured for this model; a call may change it (0 = off).
SYNTHESIS_RANGES = {"cfg_alpha": CFG_ALPHA_RANGE, "noise_scale": NOISE_SCALE_RANGE,
                    "min_flow_steps": (1, MAX_FLOW_STEPS), "repetition_stop_seconds": REPETITION_STOP_SECONDS_RANGE}
SYNTHESIS_INTEGERS = ("min_flow_steps",)


def codec_step_states(c: CodecConfig) -> list[tuple[str, tuple[int, ...]]]:
    """(name, shape) of each state of a codec_step graph, in I/O order: what each layer keeps of the past (the first
    conv's inputs, each ConvTranspose's last input, each decoder attention layer's keys and values over its window,
    output_proj's inputs, the last 100 Hz feature, each frame-decoder conv's inputs). All start as zeros."""
    out: list[tuple[str, tuple[int, ...]]] = [("state.conv_in", (1, c.latent_dim, c.decoder_convs_kernels[0] - 1))]
    for i, (n, w) in enumerate(zip(c.decoder_transformer_lengths, c.decoder_windows)):
        if i > 0:
            out.append((f"state.up{i}", (1, c.dim, 1)))
        for j in range(n):
            out += [(f"state.stage{i}.{j}.key", (1, c.n_heads, w, c.head_dim)),
                    (f"state.stage{i}.{j}.value", (1, c.n_heads, w, c.head_dim))]
    out.append(("state.output_proj", (1, c.dim, c.output_kernel - 1)))
    out.append(("state.features", (1, c.frame_features, 1)))
    k = c.frame_decoder_kernel - 1
    out.append(("state.fd.dec_in", (1, c.frame_features, k)))
    out += [(f"state.fd.dec.{i}", (1, c.frame_decoder_dim, k)) for i in range(c.frame_decoder_layers)]
    return out


def codec_step_io(c: CodecConfig) -> tuple[list[str], list[str]]:
    """A codec_step graph's input and output names."""
    ins, outs = GRAPH_IO["codec_step"]
    names = [n for n, _ in codec_step_states(c)]
    return [*ins, *names], [*outs, *("next." + n for n in names)]


def expand_io(names: tuple[str, ...], n_layers: int) -> list[str]:
    out: list[str] = []
    for n in names:
        out.extend(n.format(i=i) for i in range(n_layers)) if "{i}" in n else out.append(n)
    return out


def graph_io(name: str, n_layers: int, kv_cache: str = "grow", codec_head: str = "patch",
             split_codec: bool = False) -> tuple[list[str], list[str]]:
    """The I/O names a graph entry must list: GRAPH_IO expanded, plus `past_length` for an in-place backbone cache,
    the renderer parameters as a source_filter codec's outputs, the frame decoder's beside a codec_trunk."""
    ins, outs = (expand_io(x, n_layers) for x in GRAPH_IO[name])
    if name == "codec_decoder" and codec_head == "source_filter":
        outs = list(SOURCE_FILTER_OUTPUTS)
        if split_codec:
            ins, outs = list(SPLIT_DECODER_INPUTS), list(SPLIT_DECODER_OUTPUTS)
    if name in ("backbone", "backbone_prefill") and kv_cache == "shared":
        ins.insert(1, PAST_LENGTH)
    if name == "backbone" and kv_cache == "static":
        ins[1:1] = STATIC_KV_INPUTS
    return ins, outs


def schema_version_for(lexicon: bool, kv_cache: str, graphs: Mapping[str, Mapping[str, Any]] | None = None,
                       arrays: Mapping[str, Mapping[str, Any]] | None = None, lexicon_file: str | None = None) -> int:
    """The lowest schema version that describes a bundle (older runtimes refuse what they cannot run)."""
    if _compact_features(graphs or {}, arrays or {}, lexicon_file):
        return COMPACT_SCHEMA_VERSION
    v3 = kv_cache != "grow" or any(g in OPTIONAL_GRAPHS or e.get("optional_inputs") for g, e in (graphs or {}).items())
    return FEATURES_SCHEMA_VERSION if v3 else LEXICON_SCHEMA_VERSION if lexicon else SCHEMA_VERSION


def _compact_features(graphs: Mapping[str, Any], arrays: Mapping[str, Any], lexicon_file: Any = None) -> list[str]:
    """What in a manifest needs schema 4: a required graph left out beside its STEP_ONLY_CODEC stand-in, an int8
    array, a compact lexicon."""
    out = [f"graph '{g}' left out (its work done by '{alt}')" for g, alt in STEP_ONLY_CODEC.items()
           if g not in graphs and alt in graphs]
    out += [f"arrays.{a}.dtype int8" for a, e in arrays.items() if isinstance(e, dict) and e.get("dtype") == "int8"]
    if isinstance(lexicon_file, str) and lexicon_file.endswith(COMPACT_LEXICON_SUFFIX):
        out.append(f"a compact lexicon ({lexicon_file})")
    return out


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


@dataclass(frozen=True)
class GraphEntry:
    name: str
    file: str
    precision: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    opset: int
    static_shapes: bool
    kv_cache: str = "grow"  # backbone only: KV_CACHES
    optional_inputs: tuple[str, ...] = ()  # OPTIONAL_INPUTS the graph takes


@dataclass(frozen=True)
class Manifest:
    root: Path
    data: Mapping[str, Any]
    config: ModelConfig
    graphs: Mapping[str, GraphEntry]

    @property
    def voices(self) -> dict[str, str]:
        """voice name -> relative file."""
        return {k: v["file"] for k, v in self.data["voices"].items()}

    @property
    def default_voice(self) -> str:
        return self.data["default_voice"]

    @property
    def lexicon(self) -> str | None:
        """Relative file of the bundle's pronunciation lexicon (`tokenizer.lexicon`), or None: text is tokenized as is."""
        return self.data["tokenizer"].get("lexicon")

    @property
    def notices(self) -> tuple[str, ...]:
        """Relative files of the licence notices that travel with the bundle's data (`notices`); () when none."""
        return tuple(self.data.get("notices", ()))

    @property
    def synthesis(self) -> dict[str, float]:
        """The model's own sampling defaults (e.g. {"cfg_alpha": 1.2, "noise_scale": 0.4, "min_flow_steps": 7});
        {} = the reference's."""
        return dict(self.data.get("synthesis", {}))

    @property
    def min_flow_steps(self) -> int | None:
        """The fewest Euler steps per frame this model was measured to need (`synthesis.min_flow_steps`), or None."""
        floor = self.data.get("synthesis", {}).get("min_flow_steps")
        return None if floor is None else int(floor)

    @property
    def target(self) -> dict[str, Any]:
        """The NPU target the bundle was exported for ({"name": "qnn-htp", "seq_len": .., "context": .., ...});
        {"name": "cpu"} for a bundle without one."""
        return dict(self.data.get("target", {"name": "cpu"}))

    @property
    def cpu_placed(self) -> dict[str, str]:
        """Graphs the bundle itself places on the CPU (graph entry `placement` "cpu"; an NPU bundle's codec_trunk),
        name -> `placement_reason`."""
        return {g: str(e.get("placement_reason", "")) for g, e in self.data["graphs"].items()
                if e.get("placement") == "cpu"}

    def path(self, rel: str) -> Path:
        """The real path of a bundle file; BundleConfinementError if `rel` leads outside the bundle."""
        return bundle_file(self.root, rel)

    def precision(self, component: str) -> str:
        ps = {g.precision for g in self.graphs.values() if GRAPH_COMPONENT[g.name] == component}
        return "/".join(sorted(ps))


def _fail(root: Path, msg: str) -> ManifestError:
    return ManifestError(f"{root / MANIFEST_FILE}: {msg}")


def validate_manifest_dict(d: Any, root: Path = Path(".")) -> None:
    """Structural validation: the rules of manifest.schema.json without a jsonschema dependency (keys it does not
    declare are ignored), plus the cross-field ones; tests/runtime/test_manifest_contract.py holds the two together."""
    if not isinstance(d, dict):
        raise _fail(root, "must be a JSON object.")
    if d.get("format") != FORMAT:
        raise _fail(root, f"not a vox-edge bundle manifest (format={d.get('format')!r}).")
    v = d.get("schema_version")
    if v not in READABLE_SCHEMA_VERSIONS:
        raise _fail(root, f"schema_version {v!r}, but this vox-edge reads versions "
                          f"{', '.join(map(str, READABLE_SCHEMA_VERSIONS))}. "
                          "Re-export the bundle with this vox-edge version (`vox-edge export CHECKPOINT BUNDLE`) "
                          "or install the vox-edge version that wrote it.")
    for key, typ in (("params", dict), ("graphs", dict), ("arrays", dict), ("voices", dict), ("files", dict),
                     ("tokenizer", dict), ("default_voice", str), ("exporter", dict), ("source", dict)):
        if not isinstance(d.get(key), typ):
            raise _fail(root, f"field '{key}' missing or not a {typ.__name__}. Re-export the bundle.")
    if d["tokenizer"].get("lexicon") is not None and v < LEXICON_SCHEMA_VERSION:
        raise _fail(root, f"tokenizer.lexicon needs schema_version {LEXICON_SCHEMA_VERSION} or later, got {v!r}. "
                          "Re-export the bundle.")
    missing = [g for g in GRAPH_IO if g not in d["graphs"] and g not in OPTIONAL_GRAPHS
               and STEP_ONLY_CODEC.get(g) not in d["graphs"]]
    if missing:
        raise _fail(root, f"graph '{missing[0]}' missing. Re-export the bundle.")
    for g, e in d["graphs"].items():
        if g not in GRAPH_IO:
            raise _fail(root, f"unknown graph '{g}'.")
        for key in ("file", "precision", "inputs", "outputs", "opset"):
            if key not in e:
                raise _fail(root, f"graphs.{g}.{key} missing.")
        if e["precision"] not in PRECISIONS:
            raise _fail(root, f"graphs.{g}.precision {e['precision']!r} is not one of {PRECISIONS}.")
        kv = e.get("kv_cache", "grow")
        if kv not in KV_CACHES or (kv != "grow" and g not in ("backbone", "backbone_prefill")):
            raise _fail(root, f"graphs.{g}.kv_cache {kv!r}: only the backbone has one, one of {KV_CACHES}. "
                              "Re-export the bundle.")
        extra = e.get("optional_inputs", [])
        if not isinstance(extra, list) or not set(extra) <= set(OPTIONAL_INPUTS.get(g, ())):
            raise _fail(root, f"graphs.{g}.optional_inputs {extra!r}: this runtime knows "
                              f"{list(OPTIONAL_INPUTS.get(g, ()))}. Re-export the bundle.")
        if extra and v < FEATURES_SCHEMA_VERSION:
            raise _fail(root, f"graphs.{g}.optional_inputs needs schema_version {FEATURES_SCHEMA_VERSION}, got {v!r}. "
                              "Re-export the bundle.")
        if g in OPTIONAL_GRAPHS and v < FEATURES_SCHEMA_VERSION:
            raise _fail(root, f"graph '{g}' needs schema_version {FEATURES_SCHEMA_VERSION}, got {v!r}. Re-export the bundle.")
        if kv != "grow" and v < FEATURES_SCHEMA_VERSION:
            raise _fail(root, f"graphs.backbone.kv_cache {kv!r} needs schema_version {FEATURES_SCHEMA_VERSION}, "
                              f"got {v!r}. Re-export the bundle.")
    pre = d["graphs"].get("backbone_prefill")
    if pre is not None:  # the cache contract both backbone graphs share
        bb = d["graphs"]["backbone"]
        if (pre.get("kv_cache", "grow") != bb.get("kv_cache", "grow") or pre.get("kv_cache") == "static"
                or list(pre["inputs"]) != list(bb["inputs"]) or list(pre["outputs"]) != list(bb["outputs"])):
            raise _fail(root, "graphs.backbone_prefill must share the backbone's cache contract (the same inputs, "
                              "outputs and kv_cache, not static). Re-export the bundle.")
    for a in ARRAYS:
        if a not in d["arrays"] or "file" not in d["arrays"][a]:
            raise _fail(root, f"arrays.{a} missing. Re-export the bundle.")
    for a, e in d["arrays"].items():
        dtype = e.get("dtype", "float32") if isinstance(e, dict) else None
        if dtype not in ARRAY_DTYPES or (dtype == "int8") != ("scale" in e):
            raise _fail(root, f"arrays.{a}: dtype {dtype!r} (this runtime reads {', '.join(ARRAY_DTYPES)}; int8 with "
                              "a `scale` file, the others without). Re-export the bundle.")
    if v < COMPACT_SCHEMA_VERSION:
        needs = _compact_features(d["graphs"], d["arrays"], d["tokenizer"].get("lexicon"))
        if needs:
            raise _fail(root, f"{needs[0]} needs schema_version {COMPACT_SCHEMA_VERSION}, got {v!r}. Re-export the bundle.")
    if d["default_voice"] not in d["voices"]:
        raise _fail(root, f"default_voice '{d['default_voice']}' is not among the voices.")
    lexicon = d["tokenizer"].get("lexicon")
    if lexicon is not None and not _is_relpath(lexicon):
        raise _fail(root, f"tokenizer.lexicon must name a file of the bundle (a relative path), got {lexicon!r}. "
                          "Re-export the bundle.")
    notices = d.get("notices", [])
    if not isinstance(notices, list) or not all(_is_relpath(n) for n in notices):
        raise _fail(root, f"field 'notices' must be a list of files of the bundle (relative paths), got {notices!r}. "
                          "Re-export the bundle.")
    problem = synthesis_problem(d.get("synthesis", {}))
    if problem:
        raise _fail(root, problem)
    target = d.get("target", {"name": NPU_TARGETS[0], "seq_len": 1, "context": 1, "codec_frames": 1})
    if not isinstance(target, dict) or target.get("name") not in NPU_TARGETS or not all(
            isinstance(target.get(k), int) and target[k] >= 1 for k in ("seq_len", "context", "codec_frames")):
        raise _fail(root, f"field 'target' must be {{name: one of {list(NPU_TARGETS)}, seq_len, context, codec_frames: "
                          f"positive integers}}, got {target!r}. Re-export the bundle.")
    refs = [r for r in _references(d) + list(d["files"]) if not _is_relpath(r)]
    if refs:
        raise BundleConfinementError(f"{root / MANIFEST_FILE}: {refs[0]!r} is not a path inside the bundle (absolute "
                                     "or with '..'); the manifest is damaged or hostile. Re-export the bundle.")
    for rel, meta in d["files"].items():
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str) or not isinstance(meta.get("size"), int):
            raise _fail(root, f"files['{rel}'] must hold sha256 and size.")


def _is_relpath(rel: Any) -> bool:
    """A non-empty relative path inside the bundle (the schema's relpath: no leading '/', no '..' part; nor, for
    any OS, a backslash-rooted or drive path or a NUL)."""
    return (isinstance(rel, str) and bool(rel) and "\0" not in rel and not rel.startswith(("/", "\\"))
            and not re.match(r"[A-Za-z]:", rel) and ".." not in re.split(r"[/\\]", rel))


def _references(d: Mapping[str, Any]) -> list[Any]:
    """Every file a manifest dict names besides its `files` table, as written (validated by the caller)."""
    out = [e.get("file") if isinstance(e, dict) else e
           for table in ("graphs", "arrays", "voices") for e in d[table].values()]
    out += [e["scale"] for e in d["arrays"].values() if isinstance(e, dict) and "scale" in e]
    out.append(d["tokenizer"].get("file"))
    if "lexicon" in d["tokenizer"]:
        out.append(d["tokenizer"]["lexicon"])
    return out + list(d.get("notices", []))


def referenced_files(d: Mapping[str, Any]) -> set[str]:
    """Every file a validated manifest dict names besides its `files` table."""
    return set(_references(d))


def bundle_file(root: Path, rel: str) -> Path:
    """root/rel resolved (symlinks followed), refused unless it stays inside the bundle directory."""
    if not _is_relpath(rel):
        raise BundleConfinementError(f"{root / MANIFEST_FILE}: {rel!r} is not a path inside the bundle (absolute "
                                     "or with '..'); the manifest is damaged or hostile. Re-export the bundle.")
    base = os.path.realpath(root)
    real = os.path.realpath(os.path.join(base, rel))
    if os.path.commonpath([base, real]) != base:
        raise BundleConfinementError(f"{root / rel}: leads outside the bundle directory (to {real}); bundle files "
                                     "must be inside it, not symlinks out of it. Copy the real files into the bundle.")
    return Path(real)


def refuse_links_out(root: Path, max_entries: int = 10_000) -> None:
    """No symlink anywhere in the bundle leads outside it, listed in the manifest or not: an ONNX graph names its
    external data files itself, and onnxruntime (which refuses absolute and '..' locations) follows symlinks."""
    base = os.path.realpath(root)
    seen = 0
    for folder, dirs, files in os.walk(base):  # does not descend into symlinked folders; they are checked below
        for entry in dirs + files:
            seen += 1
            path = os.path.join(folder, entry)
            if seen > max_entries:
                raise ManifestError(f"{root}: more than {max_entries} entries; a bundle holds a few dozen files. "
                                    "Point --bundle at the bundle directory itself.")
            if os.path.islink(path) and os.path.commonpath([base, os.path.realpath(path)]) != base:
                raise BundleConfinementError(f"{path}: a symlink that leads outside the bundle directory (to "
                                             f"{os.path.realpath(path)}); copy the real file into the bundle.")


def synthesis_problem(syn: Any) -> str | None:
    """What is wrong with an optional `synthesis` object (known knobs only, each a number in its range, an integer
    for SYNTHESIS_INTEGERS), or None."""
    if not isinstance(syn, dict):
        return "field 'synthesis' must be an object, e.g. {\"cfg_alpha\": 1.2, \"noise_scale\": 0.5}."
    for key, value in syn.items():
        if key not in SYNTHESIS_RANGES:
            return (f"synthesis.{key}: unknown sampling default (known: {', '.join(SYNTHESIS_RANGES)}). "
                    "Re-export the bundle with this vox-edge version.")
        lo, hi = SYNTHESIS_RANGES[key]
        if key in SYNTHESIS_INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                return (f"synthesis.{key} is {value!r}; allowed: an integer in [{lo}, {hi}] (the fewest flow steps "
                        "the model was measured to need). Re-export the bundle with `vox-edge export CHECKPOINT "
                        f"BUNDLE --min-flow-steps N` (N in [{lo}, {hi}]), or leave the option out for no floor.")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            return f"synthesis.{key} is {value!r}; allowed: a number in [{lo}, {hi}]."
    return None


def verify_files(root: Path, files: Mapping[str, Mapping[str, Any]], full: bool = True,
                 cache: VerifiedFiles | None = None) -> None:
    """Every listed file is inside the bundle and has the listed size (and sha256 when `full`; a file hashed
    before and unchanged since, per `cache` (default: the user's verification record), is not read again)."""
    with cache or VerifiedFiles() as known:
        for rel, meta in files.items():
            p = bundle_file(root, rel)
            try:
                st = p.stat()
            except OSError:
                st = None
            if st is None or not stat.S_ISREG(st.st_mode):
                raise BundleIntegrityError(f"{root / rel}: missing from the bundle. Copy the whole bundle directory "
                                           "again or re-export it.")
            if st.st_size != meta["size"]:
                raise BundleIntegrityError(f"{root / rel}: size {st.st_size} != {meta['size']} in the manifest; the file "
                                           "is corrupted or altered. Copy the bundle again or re-export it.")
            if not full or known.known(p, st, meta["sha256"]):
                continue
            if sha256_file(p) != meta["sha256"]:
                raise BundleIntegrityError(f"{root / rel}: sha256 does not match the manifest; the file is corrupted "
                                           "or altered. Copy the bundle again or re-export it.")
            known.remember(p, st, meta["sha256"])


def load_manifest(bundle: str | Path, verify: str = "full") -> Manifest:
    """Read, validate and (verify='full'|'size'|'none') integrity-check a bundle's manifest."""
    root = Path(bundle)
    mpath = root / MANIFEST_FILE
    if not root.is_dir():
        raise ManifestError(f"{root}: bundle directory not found. Export one with `vox-edge export CHECKPOINT {root}`.")
    if mpath.is_symlink():
        bundle_file(root, MANIFEST_FILE)  # a manifest.json that is a symlink out of the bundle is refused
    if not mpath.is_file():
        raise ManifestError(f"{mpath}: missing, so {root} is not a complete vox-edge bundle (an interrupted export?). "
                            "Re-run `vox-edge export`.")
    try:
        d = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{mpath}: not valid JSON ({e}). Re-export the bundle.") from None
    validate_manifest_dict(d, root)
    cfg = ModelConfig.from_params(d["params"])
    if "codec_decoder" not in d["graphs"] and cfg.codec.output_head != "source_filter":
        raise _fail(root, "graph 'codec_decoder' missing: only a source_filter codec streams through codec_step "
                          "alone. Re-export the bundle.")
    graphs = {}
    for g, e in d["graphs"].items():
        kv = e.get("kv_cache", "grow")
        exp_in, exp_out = (codec_step_io(cfg.codec) if g == "codec_step"
                           else graph_io(g, cfg.n_layers, kv, cfg.codec.output_head, "codec_trunk" in d["graphs"]))
        if list(e["inputs"]) != exp_in or list(e["outputs"]) != exp_out:
            raise _fail(root, f"graphs.{g} I/O names do not match this runtime's contract "
                              f"(expected inputs {exp_in[:3]}..., outputs {exp_out[:3]}...). Re-export the bundle.")
        graphs[g] = GraphEntry(g, e["file"], e["precision"], tuple(e["inputs"]), tuple(e["outputs"]),
                               int(e["opset"]), bool(e.get("static_shapes", False)), kv,
                               tuple(e.get("optional_inputs", ())))
    unlisted = sorted(referenced_files(d) - set(d["files"]))
    if unlisted:
        raise _fail(root, f"'{unlisted[0]}' is referenced but has no entry in 'files'. Re-export the bundle.")
    refuse_links_out(root)
    if verify != "none":
        verify_files(root, d["files"], full=(verify == "full"))
    else:  # no integrity check asked for, but confinement is not optional
        for rel in d["files"]:
            bundle_file(root, rel)
    return Manifest(root, d, cfg, graphs)
