"""The backbone ONNX graph, written node by node while weights stream from the checkpoint
(docs/model.md#backbone).

I/O (manifest.GRAPH_IO["backbone"]):
    inputs_embeds [1,S,D] f32, past_key_values.{i}.key/value [1,KV,P,hd] f32
    -> hidden_states [1,S,D] f32 (final-normed), present.{i}.key/value [1,KV,P+S,hd] f32
Positions are P..P+S-1 with P read from the past's shape; P = 0 (empty past) is a valid prefill.

Per layer (pre-norm Mistral decoder):
    n = RMSNorm(x)                 first layer: decomposed ops (ORT fuses them); later: fused below
    qkv = n @ [wq; wk; wv].T       one MatMul: the input is read (and, for int8, quantised) once
    a, k, v = attention(qkv, past)  adjacent-pair RoPE on raw wq/wk, causal, GQA (see below)
    m, x = SkipSimplifiedLayerNormalization(a @ wo.T, x)   residual add + RMSNorm in one op
    g, u = split(m @ [w1; w3].T);  x += (silu(g) * u) @ w2.T  (the add is fused into the next norm)

Attention:
  plain  standard ops: RoPE as x*cos + (x@R)*sin, Concat cache, the n_rep query heads of a KV head stacked
         as rows of one MatMul (K/V read once, never repeated), Softmax.
  gqa    com.microsoft GroupQueryAttention (do_rotary, rotary_interleaved=1). With the growing cache it is no
         faster than plain (it copies the cache too); its win is the in-place cache (kv_cache="shared": past and
         present bound to one buffer), most of all at long context. A small model is per-node bound, and gqa has
         fewer nodes, so training/ship/default.py exports the default voice as int8-gqa-shared.
  Default ("auto"): plain for the grow cache, gqa for the shared / static cache. Timings: benchmarks/RESULTS.md.

Weights: one tensor at a time is read from the safetensors file (BF16 -> f32), converted to the graph's
precision and appended to `backbone.onnx.data`; nothing else of the model is ever held in memory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto

from vox_edge.config import ModelConfig
from vox_edge.errors import ExportError
from vox_edge.manifest import KV_CACHES, PAST_LENGTH, graph_io
from vox_edge.quantize.plan import int4_option, split_spec

from .onnx_utils import MS_DOMAIN, ExternalData, GraphBuilder, Linear, TensorReader, save_model

OPSET = 17
GRAPH_NAME = "backbone"
ATTENTION_KINDS = ("gqa", "plain")
KV_CACHE_KINDS = KV_CACHES  # manifest: "shared" adds the int64 [1] input PAST_LENGTH
F32 = TensorProto.FLOAT
PREFILL_GRAPH = "backbone_prefill"
PREFILL_OPTIONS = {"prefill8": "int8", "prefill32": "fp32"}  # backbone spec option -> the prefill graph's precision


@dataclass(frozen=True)
class BackboneOptions:
    precision: str = "fp32"  # fp32 | fp16 | int8 | int4 (MatMul weights; everything else stays f32)
    attention: str = "auto"  # auto | plain (standard ops) | gqa (com.microsoft GroupQueryAttention)
    int4_block_size: int = 32
    int4_accuracy_level: int = 4  # int8 compute in MatMulNBits; level 0 is ~2.4x slower (docs/hardware.md#cpu-measurements)
    int4_symmetric: bool = True
    # KV cache: "grow" = present is past + S rows, a new array every call (every manifest schema);
    # "shared" = a preallocated [1,KV,C,hd] buffer updated in place (bind past and present to the same
    # OrtValue) plus an int64 [1] input `past_length`; needs GroupQueryAttention. Manifest schema 3 (the runtime
    # binds one buffer per request: no cache copy per step, half the peak cache memory).
    kv_cache: str = "grow"
    static_shapes: bool = False  # fixed S and C (NPU EPs); implies kv_cache="shared"
    static_seq_len: int = 1
    static_cache_len: int = 4096
    # The audio codebook table (arrays/, the backbone's per-frame input) stored FP16 instead of FP32: spec option
    # 'table16' (export/bundle.write_arrays; the graph itself is unchanged).
    table16: bool = False
    # ... or int8 with a float32 scale per row: spec option 'table8' (manifest schema 4; quarter of FP32's size).
    table8: bool = False
    # A second backbone graph for prompts (manifest `backbone_prefill`) at this precision, beside this one: spec
    # option 'prefill8' (INT8 DynamicQuantizeMatMul) or 'prefill32' (FP32); None = none. Same attention and cache.
    prefill: str | None = None

    def validate(self) -> None:
        if self.attention not in ATTENTION_KINDS + ("auto",):
            raise ExportError(f"backbone: attention must be one of {ATTENTION_KINDS}, got {self.attention!r}.")
        if self.kv_cache not in KV_CACHE_KINDS:
            raise ExportError(f"backbone: kv_cache must be one of {KV_CACHE_KINDS}, got {self.kv_cache!r}.")
        if self.shared_cache and self.attention_kind != "gqa":
            raise ExportError("backbone: an in-place (shared/static) KV cache needs attention='gqa'.")
        if self.static_shapes and not 1 <= self.static_seq_len <= self.static_cache_len:
            raise ExportError("backbone: static shapes need 1 <= static_seq_len <= static_cache_len.")

    @classmethod
    def from_spec(cls, spec: str, **kw) -> "BackboneOptions":
        """'int4', 'int4-b128', 'int4-acc0', 'int4-asym', 'fp32-plain', 'int8-gqa-shared-table16' ... -> options."""
        base, extra = split_spec(spec, "the backbone", ExportError)
        opts: dict = {"precision": base, **kw}
        for o in extra:
            if o in ATTENTION_KINDS:
                opts["attention"] = o
            elif o == "shared":  # in-place KV cache (implies gqa)
                opts["kv_cache"] = o
            elif o in ("table16", "table8"):  # the audio codebook table FP16 / INT8 (export/bundle.write_arrays)
                opts[o] = True
            elif o in PREFILL_OPTIONS:  # + backbone_prefill.onnx at that precision (prefill_options)
                opts["prefill"] = PREFILL_OPTIONS[o]
            elif base == "int4" and int4_option(o):
                key, value = int4_option(o)
                opts["int4_" + key] = value
            elif base == "int8" and o == "dynamic":
                pass  # the only int8 method for the backbone (DynamicQuantizeMatMul)
            else:
                raise ExportError(f"backbone precision {spec!r}: option {o!r} does not apply "
                                  "(int4: bN, accN, sym, asym; any: gqa, plain, shared, table16, table8, prefill8, "
                                  "prefill32).")
        if opts.get("table16") and opts.get("table8"):
            raise ExportError(f"backbone precision {spec!r}: one audio table format, 'table16' or 'table8'.")
        return cls(**opts)

    def prefill_options(self) -> "BackboneOptions | None":
        """The options of the backbone_prefill graph: this cache contract (attention, kv_cache) at `prefill`."""
        if self.prefill is None:
            return None
        if self.static_shapes:
            raise ExportError("backbone: a prefill graph ('prefill8') is for CPU bundles; a fixed-shape (NPU) backbone "
                              "prefills in chunks of its own graph.")
        return replace(self, precision=self.prefill, prefill=None, table16=False, table8=False, attention=self.attention_kind)

    @property
    def attention_kind(self) -> str:
        if self.attention != "auto":
            return self.attention
        return "gqa" if self.shared_cache else "plain"

    @property
    def shared_cache(self) -> bool:
        return self.kv_cache == "shared" or self.static_shapes


def _inv_freq(cfg: ModelConfig) -> np.ndarray:
    """theta^(-2d/hd), d = 0..hd/2-1, computed exactly as the reference does (float32)."""
    d = np.arange(0, cfg.head_dim, 2, dtype=np.float32)
    return (1.0 / (np.float32(cfg.rope_theta) ** (d / np.float32(cfg.head_dim)))).astype(np.float32)


class _Backbone:
    """Emits the graph; one instance per export."""

    def __init__(self, cfg: ModelConfig, reader: TensorReader, gb: GraphBuilder, opts: BackboneOptions):
        self.cfg, self.r, self.gb, self.opts = cfg, reader, gb, opts
        self.linear = Linear(opts.precision, opts.int4_block_size, opts.int4_accuracy_level, opts.int4_symmetric)

    # ---- helpers ----
    def w(self, name: str) -> np.ndarray:
        return self.r.f32(name)

    def rms(self, x: str, tag: str) -> str:
        """sqrt(mean(x^2) + eps) over the last axis."""
        gb = self.gb
        sq = gb.op("Pow", [x, gb.const("two", 2.0, np.float32)], name=tag + "/pow")
        ms = gb.op("ReduceMean", [sq], name=tag + "/mean", axes=[-1], keepdims=1)
        return gb.op("Sqrt", [gb.op("Add", [ms, gb.const("eps", self.cfg.norm_eps, np.float32)], name=tag + "/add")],
                     name=tag + "/sqrt")

    def rms_norm(self, x: str, weight: str, tag: str) -> str:
        """x / sqrt(mean(x^2) + eps) * w, in the op pattern ORT fuses into SimplifiedLayerNormalization."""
        gb = self.gb
        return gb.op("Mul", [gb.op("Div", [x, self.rms(x, tag)], name=tag + "/div"), gb.weight(weight, self.w(weight))],
                     name=tag)

    def skip_norm(self, delta: str, residual: str, weight: str, tag: str, out: str | None = None) -> tuple[str, str]:
        """(RMSNorm(residual + delta), residual + delta) in one fused op."""
        normed = out or f"{tag}/out"
        summed = f"{tag}/sum"
        self.gb.op("SkipSimplifiedLayerNormalization", [delta, residual, self.gb.weight(weight, self.w(weight))],
                   outputs=[normed, "", "", summed], name=tag, domain=MS_DOMAIN, epsilon=self.cfg.norm_eps)
        return normed, summed

    # ---- per-graph shape values ----
    def lengths(self, embeds: str, past_k0: str, past_length: str | None) -> None:
        """S, P, T=P+S as int64 [1] tensors and the RoPE tables every layer shares."""
        gb, cfg = self.gb, self.cfg
        self.S = gb.op("Shape", [embeds], name="S", start=1, end=2)  # [1]
        # grow: P is the past's length; shared: the past is a buffer of capacity C, P comes as an input
        self.P = past_length or gb.op("Shape", [past_k0], name="P", start=2, end=3)  # [1]
        self.T = gb.op("Add", [self.P, self.S], name="T")  # [1]
        t_scalar = gb.op("Squeeze", [self.T], name="T_scalar")
        if self.opts.static_shapes:
            # Fixed-shape tables for every position the cache can hold: [C, hd/2].
            t32 = gb.op("Cast", [self.T], name="T_i32", to=TensorProto.INT32)
            self.seqlens_k = gb.op("Sub", [t32, gb.const("one_i32", [1], np.int32)], name="seqlens_k")  # [1]
            self.total_len = gb.const("capacity", self.opts.static_cache_len, np.int32)  # an upper bound of T
            ang = np.arange(self.opts.static_cache_len, dtype=np.float32)[:, None] * _inv_freq(cfg)[None, :]
            self.cos = gb.const("cos_cache", np.cos(ang), np.float32)
            self.sin = gb.const("sin_cache", np.sin(ang), np.float32)
            return
        if self.opts.attention_kind == "gqa":
            # GQA indexes cos/sin by absolute position, so it needs rows 0..T-1: [T, hd/2].
            t32 = gb.op("Cast", [self.T], name="T_i32", to=TensorProto.INT32)
            self.seqlens_k = gb.op("Sub", [t32, gb.const("one_i32", [1], np.int32)], name="seqlens_k")  # [1]
            self.total_len = gb.op("Squeeze", [t32], name="total_seq_len")  # scalar
            pos = gb.op("Range", [gb.const("zero_f", 0.0, np.float32),
                                  gb.op("Cast", [t_scalar], name="T_f", to=F32),
                                  gb.const("one_f", 1.0, np.float32)], name="positions")  # [T]
            inv = gb.const("inv_freq", _inv_freq(cfg)[None, :], np.float32)  # [1, hd/2]
        else:
            # Standard-op RoPE needs only this call's positions, each angle repeated for its pair: [S, hd].
            p_scalar = gb.op("Squeeze", [self.P], name="P_scalar")
            pos = gb.op("Range", [gb.op("Cast", [p_scalar], name="P_f", to=F32),
                                  gb.op("Cast", [t_scalar], name="T_f", to=F32),
                                  gb.const("one_f", 1.0, np.float32)], name="positions")  # [S]
            inv = gb.const("inv_freq", np.repeat(_inv_freq(cfg), 2)[None, :], np.float32)  # [1, hd]
            self.mask = self._causal_mask(p_scalar, t_scalar)
        ang = gb.op("Mul", [gb.op("Unsqueeze", [pos, gb.const("ax1", [1])], name="pos_col"), inv], name="angles")
        self.cos = gb.op("Cos", [ang], name="cos_cache")
        self.sin = gb.op("Sin", [ang], name="sin_cache")

    def _causal_mask(self, p_scalar: str, t_scalar: str) -> str:
        """Additive mask [n_rep*S, T]: query row (r, i) at position P+i sees keys j <= P+i."""
        gb = self.gb
        zero, one = gb.const("zero_i", 0), gb.const("one_i", 1)
        q_pos = gb.op("Unsqueeze", [gb.op("Range", [p_scalar, t_scalar, one], name="q_pos"), gb.const("ax1", [1])],
                      name="q_pos_col")  # [S, 1]
        k_pos = gb.op("Range", [zero, t_scalar, one], name="k_pos")  # [T]
        allowed = gb.op("LessOrEqual", [k_pos, q_pos], name="allowed")  # [S, T]
        mask = gb.op("Where", [allowed, gb.const("mask_zero", 0.0, np.float32),
                               gb.const("mask_neg", np.finfo(np.float32).min, np.float32)], name="mask")
        n_rep = self.cfg.n_heads // self.cfg.n_kv_heads
        return gb.op("Tile", [mask, gb.const("mask_reps", [n_rep, 1])], name="mask_tiled")  # rows ordered (r, i)

    # ---- attention ----
    def attention(self, i: int, qkv: str, past_k: str, past_v: str) -> str:
        """qkv [1,S,(H+2KV)*hd] -> attention output [1,S,H*hd]; writes present.{i}.key/value."""
        cfg, gb = self.cfg, self.gb
        pk, pv = f"present.{i}.key", f"present.{i}.value"
        if self.opts.attention_kind == "gqa":
            return gb.op("GroupQueryAttention", [qkv, "", "", past_k, past_v, self.seqlens_k, self.total_len,
                                                 self.cos, self.sin],
                         outputs=[f"layers.{i}.attn/out", pk, pv], name=f"layers.{i}.attn", domain=MS_DOMAIN,
                         num_heads=cfg.n_heads, kv_num_heads=cfg.n_kv_heads, do_rotary=1, rotary_interleaved=1,
                         scale=float(cfg.head_dim ** -0.5))[0]
        return self._plain_attention(i, qkv, past_k, past_v, pk, pv)

    def _rope(self, x: str, tag: str) -> str:
        """Adjacent-pair rotation of x [1,h,S,hd]: x*cos + (x @ R)*sin, R swaps each pair with a sign."""
        gb, hd = self.gb, self.cfg.head_dim
        if not hasattr(self, "_rot"):
            r = np.zeros((hd, hd), dtype=np.float32)
            r[np.arange(1, hd, 2), np.arange(0, hd, 2)] = -1.0  # (x@R)[2d]   = -x[2d+1]
            r[np.arange(0, hd, 2), np.arange(1, hd, 2)] = 1.0  # (x@R)[2d+1] =  x[2d]
            self._rot = gb.const("rope_pair_swap", r, np.float32)
        swapped = gb.op("MatMul", [x, self._rot], name=tag + "/swap")
        return gb.op("Add", [gb.op("Mul", [x, self.cos], name=tag + "/cos"),
                             gb.op("Mul", [swapped, self.sin], name=tag + "/sin")], name=tag)

    def _cache(self, past: str, new: str, present: str, tag: str) -> str:
        """The keys (or values) attention reads; here the grown cache, which is also the graph's `present`."""
        return self.gb.op("Concat", [past, new], outputs=[present], name=tag, axis=2)

    def _plain_attention(self, i: int, qkv: str, past_k: str, past_v: str, pk: str, pv: str) -> str:
        cfg, gb = self.cfg, self.gb
        h, kv, hd = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        tag = f"layers.{i}.attn"
        q, k, v = gb.op("Split", [qkv, gb.const("qkv_split", [h * hd, kv * hd, kv * hd])], n_out=3, name=tag + "/split",
                        axis=-1)

        def heads(x: str, n: int, nm: str) -> str:  # [1,S,n*hd] -> [1,n,S,hd]
            x4 = gb.op("Reshape", [x, gb.const("shape_heads", [0, 0, n, hd])], name=f"{tag}/{nm}_4d")
            return gb.op("Transpose", [x4], name=f"{tag}/{nm}_bhsd", perm=[0, 2, 1, 3])

        qh = self._rope(heads(q, h, "q"), tag + "/q_rope")  # [1,H,S,hd]
        kh = self._rope(heads(k, kv, "k"), tag + "/k_rope")  # [1,KV,S,hd]
        keys = self._cache(past_k, kh, pk, tag + "/cat_k")  # [1,KV,T,hd]
        values = self._cache(past_v, heads(v, kv, "v"), pv, tag + "/cat_v")
        # Group the n_rep query heads of each KV head as extra rows: no repeat of K/V needed.
        qg = gb.op("Reshape", [qh, gb.const("shape_group", [0, kv, -1, hd])], name=tag + "/q_group")  # [1,KV,n_rep*S,hd]
        qg = gb.op("Mul", [qg, gb.const("attn_scale", hd ** -0.5, np.float32)], name=tag + "/q_scaled")
        kt = gb.op("Transpose", [keys], name=tag + "/k_t", perm=[0, 1, 3, 2])  # [1,KV,hd,T]
        scores = gb.op("Add", [gb.op("MatMul", [qg, kt], name=tag + "/qk"), self.mask], name=tag + "/masked")
        probs = gb.op("Softmax", [scores], name=tag + "/softmax", axis=-1)  # [1,KV,n_rep*S,T]
        o = gb.op("MatMul", [probs, values], name=tag + "/pv")  # [1,KV,n_rep*S,hd]
        o = gb.op("Reshape", [o, gb.const("shape_unheads", [0, h, -1, hd])], name=tag + "/o_heads")  # [1,H,S,hd]
        o = gb.op("Transpose", [o], name=tag + "/o_bshd", perm=[0, 2, 1, 3])
        return gb.op("Reshape", [o, gb.const("shape_merge", [0, 0, h * hd])], name=tag + "/out")  # [1,S,H*hd]

    # ---- whole graph ----
    def build(self, progress: Callable[[str], None]) -> None:
        cfg, gb = self.cfg, self.gb
        d, kv, hd, n = cfg.dim, cfg.n_kv_heads, cfg.head_dim, cfg.n_layers
        o = self.opts
        s_dim = o.static_seq_len if o.static_shapes else "S"
        c_dim = o.static_cache_len if o.static_shapes else ("C" if o.shared_cache else "P")
        t_dim = c_dim if o.shared_cache else "T"
        x = gb.input("inputs_embeds", F32, [1, s_dim, d])
        past_length = gb.input(PAST_LENGTH, TensorProto.INT64, [1]) if o.shared_cache else None
        # declared in manifest order: every layer's key, then every layer's value
        keys = [gb.input(f"past_key_values.{i}.key", F32, [1, kv, c_dim, hd]) for i in range(n)]
        values = [gb.input(f"past_key_values.{i}.value", F32, [1, kv, c_dim, hd]) for i in range(n)]
        pasts = list(zip(keys, values))
        self.lengths(x, pasts[0][0], past_length)
        self.decoder(x, pasts, progress)
        gb.output("hidden_states", F32, [1, s_dim, d])
        for kind in ("key", "value"):
            for i in range(n):
                gb.output(f"present.{i}.{kind}", F32, [1, kv, t_dim, hd])

    def decoder(self, x: str, pasts: list[tuple[str, str]], progress: Callable[[str], None]) -> None:
        """The layers from inputs_embeds `x` to `hidden_states` (the I/O is declared by `build`)."""
        cfg, gb, n = self.cfg, self.gb, self.cfg.n_layers
        normed = self.rms_norm(x, "layers.0.attention_norm.weight", "layers.0.attention_norm")
        t0 = time.perf_counter()
        for i in range(n):
            p = f"layers.{i}"
            wqkv = np.concatenate([self.w(f"{p}.attention.{m}.weight") for m in ("wq", "wk", "wv")])
            qkv = self.linear(gb, normed, wqkv, f"{p}.attention.wqkv")
            del wqkv
            attn = self.attention(i, qkv, *pasts[i])
            delta = self.linear(gb, attn, self.w(f"{p}.attention.wo.weight"), f"{p}.attention.wo")
            m, x = self.skip_norm(delta, x, f"{p}.ffn_norm.weight", f"{p}.ffn_norm")
            w13 = np.concatenate([self.w(f"{p}.feed_forward.w1.weight"), self.w(f"{p}.feed_forward.w3.weight")])
            gu = self.linear(gb, m, w13, f"{p}.feed_forward.w13")
            del w13
            g, u = gb.op("Split", [gu, gb.const("ffn_split", [cfg.hidden_dim, cfg.hidden_dim])], n_out=2,
                         name=f"{p}.feed_forward/split", axis=-1)
            silu = gb.op("Mul", [g, gb.op("Sigmoid", [g], name=f"{p}.feed_forward/sigmoid")], name=f"{p}.feed_forward/silu")
            f = gb.op("Mul", [silu, u], name=f"{p}.feed_forward/glu")
            delta = self.linear(gb, f, self.w(f"{p}.feed_forward.w2.weight"), f"{p}.feed_forward.w2")
            if i + 1 < n:
                normed, x = self.skip_norm(delta, x, f"layers.{i + 1}.attention_norm.weight", f"layers.{i + 1}.attention_norm")
            else:
                self.skip_norm(delta, x, "norm.weight", "norm", out="hidden_states")
            progress(f"backbone [{self.opts.precision}]: layer {i + 1}/{n} written "
                     f"({self.gb.data.nbytes / 2**20:.0f} MiB, {time.perf_counter() - t0:.0f} s)")


def export_backbone(ckpt, out_dir: str | Path, options: BackboneOptions | None = None,
                    progress: Callable[[str], None] = print, file_name: str = "backbone.onnx") -> dict:
    """Write `out_dir/backbone.onnx` + `backbone.onnx.data` from a checkpoint; return its manifest graph entry.

    `ckpt` is an `export.checkpoint.Checkpoint` (or its directory). Peak memory is about one fused
    weight matrix in f32 (w1|w3: 2*hidden*dim*4 bytes, 226 MB at full size) plus its quantised copy.
    """
    from .checkpoint import WEIGHTS_FILE, Checkpoint

    opts = options or BackboneOptions()
    opts.validate()
    if not isinstance(ckpt, Checkpoint):
        ckpt = Checkpoint.open(ckpt)
    cfg = ckpt.config
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / file_name
    data = ExternalData(out_dir / (file_name + ".data"))
    try:
        with TensorReader(ckpt.path / WEIGHTS_FILE) as reader:
            gb = GraphBuilder(data)
            _Backbone(cfg, reader, gb, opts).build(progress)
    finally:
        data.close()
    meta = {"vox_edge.graph": GRAPH_NAME, "vox_edge.precision": opts.precision, "vox_edge.attention": opts.attention_kind,
            "vox_edge.rope": "adjacent-pairs on raw wq/wk"}
    if opts.precision == "int4":
        meta.update({"vox_edge.int4_block_size": str(opts.int4_block_size),
                     "vox_edge.int4_accuracy_level": str(opts.int4_accuracy_level),
                     "vox_edge.int4_symmetric": str(opts.int4_symmetric).lower()})
    model = gb.model(GRAPH_NAME, OPSET, doc="Voxtral TTS backbone (vox-edge)", metadata=meta)
    save_model(model, path)
    ins, outs = graph_io(GRAPH_NAME, cfg.n_layers, "shared" if opts.shared_cache else "grow")
    entry = {"file": path.name, "precision": opts.precision, "inputs": ins, "outputs": outs, "opset": OPSET,
             "static_shapes": opts.static_shapes, "extra_files": [data.path.name], "attention": opts.attention_kind,
             "kv_cache": "shared" if opts.shared_cache else "grow"}
    if opts.static_shapes:
        entry.update(seq_len=opts.static_seq_len, cache_len=opts.static_cache_len)
    if opts.precision == "int4":
        entry.update(int4_block_size=opts.int4_block_size, int4_accuracy_level=opts.int4_accuracy_level,
                     int4_symmetric=opts.int4_symmetric)
    progress(f"backbone [{opts.precision}]: wrote {path.name} + {data.path.name} ({data.nbytes / 2**20:.0f} MiB)")
    return entry


def check_graph(path: str | Path) -> onnx.ModelProto:
    """onnx.checker on the file (path-based, so external data is checked too); returns the graph proto."""
    onnx.checker.check_model(str(path), full_check=False)
    return onnx.load(str(path), load_external_data=False)
