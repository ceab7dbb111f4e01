"""Backbone ONNX graph (export/backbone_graph.py) against the PyTorch reference, every precision.

The decode run: a 20-token prefill from an empty cache (P = 0), then 60 one-token steps that feed the
presents back as pasts. Tolerances of the quantised graphs were measured on the tiny checkpoint (seed 0):
min cosine over the 80 hidden states fp16 1.0000000 (CPU folds FP16 weights back to FP32 and the BF16
weights are exact in FP16), int8 0.99986 (mean 0.99996), int4 (block 32, symmetric) 0.99215 (mean 0.99725); thresholds keep a margin.
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from vox_edge.errors import ExportError
from vox_edge.export.backbone_graph import PAST_LENGTH, BackboneOptions, check_graph, export_backbone
from vox_edge.export.checkpoint import WEIGHTS_FILE, Checkpoint, load_reference_model
from vox_edge.export.onnx_utils import TensorReader
from vox_edge.manifest import GRAPH_IO, expand_io
from vox_edge.runtime.sessions import cpu_session

PROMPT, STEPS = 20, 60
MIN_COSINE = {"fp16": 0.9999, "int8": 0.999, "int4": 0.98}


@pytest.fixture(scope="module")
def ckpt(tiny_checkpoint):
    return Checkpoint.open(tiny_checkpoint)


@pytest.fixture(scope="module")
def reference(ckpt):
    """Inputs and the reference's hidden states [1,S,D] per call, plus its final cache."""
    cfg = ckpt.config
    bb = load_reference_model(ckpt, with_codec=False)._backbone[0]
    g = torch.Generator().manual_seed(1)
    calls = [torch.randn(1, PROMPT, cfg.dim, generator=g)] + [torch.randn(1, 1, cfg.dim, generator=g) for _ in range(STEPS)]
    hidden, past = [], None
    with torch.no_grad():
        for e in calls:
            h, past = bb(e, past)
            hidden.append(h.numpy())
    return [c.numpy() for c in calls], hidden, [(k.numpy(), v.numpy()) for k, v in past]


@pytest.fixture(scope="module")
def graphs(ckpt, tmp_path_factory):
    """precision -> (graph path, manifest entry); built once per module."""
    out = {}
    for prec in ("fp32", "fp16", "int8", "int4"):
        d = tmp_path_factory.mktemp(f"backbone_{prec}")
        out[prec] = (d / "backbone.onnx", export_backbone(ckpt, d, BackboneOptions(precision=prec), progress=lambda m: None))
    return out


def session(path) -> ort.InferenceSession:
    return cpu_session(path, 2)


def run_grow(sess: ort.InferenceSession, cfg, calls):
    """Feed presents back as pasts (the growing-cache contract); returns hidden per call and the final cache."""
    names = [o.name for o in sess.get_outputs()]
    past = {f"past_key_values.{i}.{t}": np.zeros((1, cfg.n_kv_heads, 0, cfg.head_dim), np.float32)
            for i in range(cfg.n_layers) for t in ("key", "value")}
    hidden = []
    for e in calls:
        outs = dict(zip(names, sess.run(None, {"inputs_embeds": e, **past})))
        hidden.append(outs["hidden_states"])
        past = {f"past_key_values.{k[len('present.'):]}": v for k, v in outs.items() if k.startswith("present.")}
    return hidden, past


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    return (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)


@pytest.mark.parametrize("prec", ["fp32", "fp16", "int8", "int4"])
def test_graph_checks_loads_and_follows_the_contract(graphs, ckpt, prec):
    path, entry = graphs[prec]
    proto = check_graph(path)  # path-based: the external data file is checked too
    assert (path.parent / "backbone.onnx.data").is_file() and entry["extra_files"] == ["backbone.onnx.data"]
    ins, outs = (expand_io(x, ckpt.config.n_layers) for x in GRAPH_IO["backbone"])
    assert entry["inputs"] == ins and entry["outputs"] == outs and entry["precision"] == prec
    assert [i.name for i in proto.graph.input] == ins and [o.name for o in proto.graph.output] == outs
    sess = session(path)
    assert {i.name for i in sess.get_inputs()} == set(ins)
    ops = {n.op_type for n in proto.graph.node}
    assert entry["attention"] == "plain" and "Softmax" in ops and "GroupQueryAttention" not in ops  # "auto", grow cache
    assert {"fp32": "MatMul", "fp16": "MatMul", "int8": "DynamicQuantizeMatMul", "int4": "MatMulNBits"}[prec] in ops


def test_fp32_matches_reference_prefill_and_decode(graphs, ckpt, reference):
    calls, ref_hidden, ref_cache = reference
    hidden, past = run_grow(session(graphs["fp32"][0]), ckpt.config, calls)
    err = max(np.abs(h - r).max() for h, r in zip(hidden, ref_hidden))
    assert err <= 1e-4, f"hidden states differ by {err}"
    for i, (k, v) in enumerate(ref_cache):  # same cache layout as the reference (raw wq/wk, adjacent-pair RoPE)
        assert np.abs(past[f"past_key_values.{i}.key"] - k).max() <= 1e-4
        assert np.abs(past[f"past_key_values.{i}.value"] - v).max() <= 1e-4


@pytest.mark.parametrize("prec", ["fp16", "int8", "int4"])
def test_quantised_precisions_stay_close(graphs, ckpt, reference, prec):
    calls, ref_hidden, _ = reference
    hidden, _ = run_grow(session(graphs[prec][0]), ckpt.config, calls)
    cos = cosines(np.concatenate(hidden, 1), np.concatenate(ref_hidden, 1))
    assert cos.min() >= MIN_COSINE[prec], f"{prec}: min cosine {cos.min():.6f} (mean {cos.mean():.6f})"


def test_chunked_prefill_equals_one_shot(graphs, ckpt, reference):
    """S > 1 with P > 0 (a prompt in two chunks) gives the one-shot prefill's hidden states."""
    calls, ref_hidden, _ = reference
    prompt = calls[0]
    hidden, _ = run_grow(session(graphs["fp32"][0]), ckpt.config, [prompt[:, :1], prompt[:, 1:13], prompt[:, 13:]])
    assert np.abs(np.concatenate(hidden, 1) - ref_hidden[0]).max() <= 1e-4


@pytest.mark.parametrize("prec", ["fp32", "int4"])
def test_gqa_attention_variant_matches(ckpt, reference, tmp_path, prec):
    """com.microsoft GroupQueryAttention on the grow cache: same contract, same numbers."""
    calls, ref_hidden, _ = reference
    entry = export_backbone(ckpt, tmp_path, BackboneOptions(precision=prec, attention="gqa"), progress=lambda m: None)
    proto = check_graph(tmp_path / entry["file"])
    assert entry["attention"] == "gqa" and "GroupQueryAttention" in {n.op_type for n in proto.graph.node}
    hidden, _ = run_grow(session(tmp_path / entry["file"]), ckpt.config, calls)
    if prec == "fp32":
        assert max(np.abs(h - r).max() for h, r in zip(hidden, ref_hidden)) <= 1e-4
    else:
        assert cosines(np.concatenate(hidden, 1), np.concatenate(ref_hidden, 1)).min() >= MIN_COSINE[prec]


@pytest.mark.parametrize("static", [False, True])
def test_in_place_cache_variants(ckpt, reference, tmp_path, static):
    """kv_cache='shared' / static_shapes: one preallocated buffer bound as both past and present."""
    cfg = ckpt.config
    calls, ref_hidden, _ = reference
    cap = 96
    opts = BackboneOptions(kv_cache="shared", static_shapes=static, static_seq_len=4, static_cache_len=cap)
    entry = export_backbone(ckpt, tmp_path, opts, progress=lambda m: None)
    assert entry["inputs"][1] == PAST_LENGTH and entry["static_shapes"] == static and entry["attention"] == "gqa"
    proto = check_graph(tmp_path / entry["file"])
    if static:
        dims = [[d.dim_value if d.HasField("dim_value") else d.dim_param for d in i.type.tensor_type.shape.dim]
                for i in list(proto.graph.input) + list(proto.graph.output)]
        assert all(isinstance(d, int) for ds in dims for d in ds), dims
    sess = session(tmp_path / entry["file"])
    bufs = {f"{i}.{t}": ort.OrtValue.ortvalue_from_numpy(np.zeros((1, cfg.n_kv_heads, cap, cfg.head_dim), np.float32))
            for i in range(cfg.n_layers) for t in ("key", "value")}
    chunks = [calls[0]] + calls[1:]
    if static:  # fixed S = 4: the prompt in chunks of 4; each decode step padded at the end
        chunks = [calls[0][:, j:j + 4] for j in range(0, PROMPT, 4)] + calls[1:]
    b = sess.io_binding()
    for k, v in bufs.items():
        b.bind_ortvalue_input(f"past_key_values.{k}", v)
    pos, hidden = 0, []
    for e in chunks:
        n = e.shape[1]
        x = np.concatenate([e, np.zeros((1, 4 - n, cfg.dim), np.float32)], 1) if static and n < 4 else e
        b.clear_binding_outputs()
        b.bind_output("hidden_states", "cpu")
        for k, v in bufs.items():
            b.bind_ortvalue_output(f"present.{k}", v)
        b.bind_cpu_input("inputs_embeds", np.ascontiguousarray(x))
        b.bind_cpu_input(PAST_LENGTH, np.array([pos], np.int64))
        sess.run_with_iobinding(b)
        hidden.append(b.copy_outputs_to_cpu()[0][:, :n])
        pos += n  # padding rows were written past `pos`; the next call overwrites them
    hidden = [np.concatenate(hidden[:5], 1)] + hidden[5:] if static else hidden
    assert max(np.abs(h - r).max() for h, r in zip(hidden, ref_hidden)) <= 1e-4


def test_int4_options(ckpt, reference, tmp_path):
    calls, ref_hidden, _ = reference
    entry = export_backbone(ckpt, tmp_path, BackboneOptions.from_spec("int4-b16-asym"), progress=lambda m: None)
    assert entry["int4_block_size"] == 16 and entry["int4_symmetric"] is False
    proto = check_graph(tmp_path / entry["file"])
    nb = [n for n in proto.graph.node if n.op_type == "MatMulNBits"]
    assert nb and all({a.name: a.i for a in n.attribute}["accuracy_level"] == 4 for n in nb)
    assert all(len(n.input) == 4 for n in nb)  # asymmetric: zero points present
    hidden, _ = run_grow(session(tmp_path / entry["file"]), ckpt.config, calls[:3])
    assert cosines(np.concatenate(hidden, 1), np.concatenate(ref_hidden[:3], 1)).min() >= MIN_COSINE["int4"]


def test_bad_options_raise_typed_errors(ckpt, tmp_path):
    with pytest.raises(ExportError, match="int4"):
        BackboneOptions.from_spec("int8-b64")
    with pytest.raises(ExportError, match="use one of"):
        BackboneOptions.from_spec("int3")
    with pytest.raises(ExportError, match="gqa"):
        export_backbone(ckpt, tmp_path, BackboneOptions(attention="plain", kv_cache="shared"), progress=lambda m: None)


def test_tensor_reader_equals_checkpoint(ckpt):
    with TensorReader(ckpt.path / WEIGHTS_FILE) as r:
        for name in ("layers.0.attention.wq.weight", "norm.weight", "mm_audio_embeddings.tok_embeddings.weight"):
            assert np.array_equal(r.f32(name), ckpt.tensor(name).numpy())
        assert np.array_equal(r.rows("mm_audio_embeddings.tok_embeddings.weight", 5, 9),
                              ckpt.tensor("mm_audio_embeddings.tok_embeddings.weight")[5:9].numpy())


def test_progress_reports_each_layer(ckpt, tmp_path):
    msgs: list[str] = []
    export_backbone(ckpt, tmp_path, progress=msgs.append)
    assert sum("layer" in m for m in msgs) == ckpt.config.n_layers
