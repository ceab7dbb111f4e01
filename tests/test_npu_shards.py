"""Layer-by-layer QDQ of a fixed-shape NPU backbone (export/npu_shards.py): what lets the 4B backbone quantise under
the 12 GB budget. On the tiny checkpoint, forced into one shard per layer: the stand-in session runs the shards as
the whole FP32 graph, and the stitched QDQ graph computes what the whole graph quantised at once computes."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from runtime_fixtures import tiny_bundle, tiny_checkpoint_dir  # noqa: F401

from vox_edge.export import npu_shards


def _feeds(cfg, seq_len: int, context: int, n: int) -> list[dict]:
    from vox_edge.runtime.static_cache import attention_mask, rope_tables

    rng = np.random.default_rng(0)
    out = []
    for k in range(n):
        length = 3 * k
        cos, sin = rope_tables(cfg, np.arange(length, length + seq_len))
        feed = {"inputs_embeds": rng.standard_normal((1, seq_len, cfg.dim)).astype(np.float32),
                "attention_mask": attention_mask(length, seq_len, context), "rope_cos": cos, "rope_sin": sin}
        for kind in ("key", "value"):
            for i in range(cfg.n_layers):
                past = np.zeros((1, cfg.n_kv_heads, context, cfg.head_dim), np.float32)
                past[:, :, :length] = rng.standard_normal((1, cfg.n_kv_heads, length, cfg.head_dim))
                feed[f"past_key_values.{i}.{kind}"] = past
        out.append(feed)
    return out


def _session(path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def test_plan_shards_groups_whole_layers_under_the_budget():
    assert npu_shards.plan_shards([5, 5, 5, 5], 10) == [(0, 2), (2, 4)]
    assert npu_shards.plan_shards([5, 5, 5], 1) == [(0, 1), (1, 2), (2, 3)]  # a layer over the budget: alone
    assert npu_shards.plan_shards([5, 5, 5], 100) == [(0, 3)]


def test_layer_shards_quantise_like_the_whole_graph(tiny_checkpoint_dir, tmp_path):  # noqa: F811
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.npu_graphs import export_npu_backbone
    from vox_edge.export.npu_target import QUANT
    from vox_edge.quantize.int8 import quantize_int8_static

    ckpt = Checkpoint.open(tiny_checkpoint_dir)
    cfg, seq_len, context = ckpt.config, 4, 32
    assert cfg.n_layers >= 2
    (tmp_path / "fp32").mkdir()
    export_npu_backbone(ckpt, tmp_path / "fp32", seq_len, context, progress=lambda m: None)
    fp32 = tmp_path / "fp32" / "backbone.onnx"
    feeds = _feeds(cfg, seq_len, context, 6)
    opts = QUANT["qnn-htp"]
    whole = quantize_int8_static(fp32, tmp_path / "whole.onnx", feeds, **opts)[0]

    seen = {}

    def feeds_of(stand_in):  # the calibration run's backbone: the FP32 shards in a row equal the whole FP32 graph
        names = [o.name for o in stand_in.get_outputs()]
        assert names == [o.name for o in _session(fp32).get_outputs()]
        got, want = stand_in.run(names, feeds[1]), _session(fp32).run(names, feeds[1])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, atol=1e-5, rtol=0)
        seen["shards"] = len(stand_in._sessions)
        return feeds

    (tmp_path / "sharded").mkdir()
    written = npu_shards.quantize_backbone_by_layer(fp32, tmp_path / "sharded" / "backbone.onnx", cfg.n_layers,
                                                    feeds_of, opts, progress=lambda m: None, max_shard_bytes=1)
    assert seen["shards"] == cfg.n_layers
    assert [p.name for p in written] == ["backbone.onnx", "backbone.onnx.data"]
    assert sorted(p.name for p in fp32.parent.iterdir()) == ["backbone.onnx", "backbone.onnx.data"]  # no leftovers
    model = onnx.load(str(written[0]), load_external_data=False)
    ref = onnx.load(str(whole), load_external_data=False)
    assert [i.name for i in model.graph.input] == [i.name for i in ref.graph.input]
    assert [o.name for o in model.graph.output] == [o.name for o in ref.graph.output]
    # the boundary's DequantizeLinear -> QuantizeLinear pairs are gone: as many Q nodes as the whole graph, give or
    # take the inputs each shard quantises again (mask, RoPE tables)
    count = lambda m, op: sum(n.op_type == op for n in m.graph.node)  # noqa: E731
    assert count(model, "MatMul") == count(ref, "MatMul")
    assert count(model, "QuantizeLinear") - count(ref, "QuantizeLinear") <= 3 * (cfg.n_layers - 1)
    a, b = _session(whole), _session(written[0])
    for feed in (feeds[2], feeds[5]):
        for x, y in zip(a.run(None, feed), b.run(None, feed)):
            np.testing.assert_allclose(y, x, atol=1e-6 + 1e-4 * float(np.abs(x).max()), rtol=0)


def test_sharded_export_is_refused_beside_a_foreign_folder(tmp_path):
    with pytest.raises(ValueError, match="beside the backbone"):
        npu_shards.split_backbone(tmp_path / "a" / "backbone.onnx", 2, [(0, 2)], tmp_path)


@pytest.mark.slow
def test_qnn_htp_export_in_shards_keeps_the_parity_ladder(tiny_checkpoint_dir, tiny_bundle, tmp_path,  # noqa: F811
                                                           monkeypatch):
    """`vox-edge export --target qnn-htp` of the tiny checkpoint forced through the layer-shard path with dynamic-INT8
    calibration shards (the 4B's path): the bundle keeps the whole backbone's I/O and meets the parity ladder against
    the FP32 CPU bundle (the QDQ graphs run by the CPU provider, as ONNX defines them)."""
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.npu_target import NpuShapes
    from vox_edge.manifest import load_manifest
    from vox_edge.runtime.engine import Engine
    from vox_edge.runtime.ep_check import parity

    monkeypatch.setattr(npu_shards, "SHARD_BYTES", 1)
    monkeypatch.setattr(npu_shards, "CALIBRATION_FP32_BYTES", 0)
    lines = []
    out = export_bundle(tiny_checkpoint_dir, tmp_path / "b", target="qnn-htp",
                        npu_shapes=NpuShapes(seq_len=8, context=256), progress=lines.append)
    assert any("quantised in" in m and "shards" in m for m in lines), lines
    assert any("dynamic INT8 copy" in m for m in lines), lines
    manifest = load_manifest(out, verify="size")
    assert manifest.graphs["backbone"].precision == "int8"
    assert not [p for p in out.iterdir() if "shard" in p.name or p.name.startswith(".")]
    test = Engine(manifest, None, prefix_cache=False, flow_loop=False)
    ref = Engine(load_manifest(tiny_bundle, verify="size"), None, prefix_cache=False, flow_loop=False)
    p = parity(test, ref, frames=8)
    assert p.ok, p.lines()


def _flow_velocity(ckpt_dir, out_dir):
    """The fixed-shape FP32 flow head graph of qnn-htp (export/npu_target.py's steps for it)."""
    from vox_edge.export.checkpoint import Checkpoint
    from vox_edge.export.npu_graphs import decompose_for_htp, fold_for_npu
    from vox_edge.export.torch_graphs import export_fp32, graph_module, load_acoustic

    ckpt = Checkpoint.open(ckpt_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = export_fp32(graph_module("flow_velocity", load_acoustic(ckpt), None), "flow_velocity", ckpt.config,
                      out_dir / "raw.onnx", static_shapes=True)
    path = fold_for_npu(raw, out_dir / "flow_velocity.onnx")
    model = onnx.load(str(path))
    decompose_for_htp(model)
    onnx.save_model(model, str(path))
    return path


def _random_feeds(path, n):
    rng = np.random.default_rng(1)
    model = onnx.load(str(path), load_external_data=False)
    shape = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    return [{v.name: rng.standard_normal(shape(v)).astype(np.float32) for v in model.graph.input} for _ in range(n)]


@pytest.fixture(scope="module")
def flow_head(tiny_checkpoint_dir, tmp_path_factory):  # noqa: F811
    path = _flow_velocity(tiny_checkpoint_dir, tmp_path_factory.mktemp("flow") / "fp32")
    return path, _random_feeds(path, 6)


def test_plan_cuts_splits_the_flow_head_where_one_tensor_crosses(flow_head):
    path, _ = flow_head
    model = onnx.load(str(path), load_external_data=False)
    total = npu_shards.weight_bytes(model)
    assert npu_shards.plan_cuts(model, total) == [(0, len(model.graph.node))]
    ranges = npu_shards.plan_cuts(model, total // 3)
    assert len(ranges) >= 3 and ranges[0][0] == 0 and ranges[-1][1] == len(model.graph.node)
    assert all(a < b == c for (a, b), (c, _) in zip(ranges, ranges[1:]))
    shards = npu_shards.split_graph(path, ranges, path.parent)
    try:  # each cut hands on one float tensor; the inputs each shard reads are the graph's or that one
        graph_inputs = {i.name for i in model.graph.input}
        for s, t in zip(shards, shards[1:]):
            assert len(set(t.inputs) - graph_inputs) == 1 and set(t.inputs) - graph_inputs <= set(s.outputs)
    finally:
        for s in shards:
            s.path.unlink()


def test_flow_head_in_layer_shards_quantises_like_the_whole_graph(flow_head, tmp_path):
    from vox_edge.export.npu_target import QUANT
    from vox_edge.quantize.int8 import quantize_int8_static

    path, feeds = flow_head
    opts = QUANT["qnn-htp"]
    whole = quantize_int8_static(path, tmp_path / "whole.onnx", feeds, **opts)[0]
    before = sorted(p.name for p in path.parent.iterdir())
    lines = []
    total = npu_shards.weight_bytes(onnx.load(str(path), load_external_data=False))
    written = npu_shards.quantize_graph_by_layer(path, tmp_path / "flow_velocity.onnx", feeds, opts, lines.append,
                                                 "flow_velocity", max_shard_bytes=total // 3)
    assert written is not None and any("quantised in" in m for m in lines), lines
    assert sorted(p.name for p in path.parent.iterdir()) == before  # no shard left beside the FP32 graph
    model, ref = onnx.load(str(written[0]), load_external_data=False), onnx.load(str(whole), load_external_data=False)
    assert [i.name for i in model.graph.input] == [i.name for i in ref.graph.input]
    assert [o.name for o in model.graph.output] == [o.name for o in ref.graph.output]
    count = lambda m, op: sum(n.op_type == op for n in m.graph.node)  # noqa: E731
    assert count(model, "MatMul") == count(ref, "MatMul")
    assert count(model, "QuantizeLinear") == count(ref, "QuantizeLinear")  # every boundary's requantisation dropped
    a, b = _session(whole), _session(written[0])
    for feed in (feeds[0], feeds[4]):
        for x, y in zip(a.run(None, feed), b.run(None, feed)):
            np.testing.assert_allclose(y, x, atol=1e-6 + 1e-4 * float(np.abs(x).max()), rtol=0)
    assert npu_shards.quantize_graph_by_layer(path, tmp_path / "no.onnx", feeds, opts, lines.append,
                                              "flow_velocity") is None  # under SHARD_BYTES: quantised whole


class _Stop(Exception):
    pass


def test_an_interrupted_layer_qdq_resumes_from_the_work_directory(flow_head, tmp_path):
    from vox_edge.export.npu_target import QUANT

    path, feeds = flow_head
    opts = QUANT["qnn-htp"]
    limit = npu_shards.weight_bytes(onnx.load(str(path), load_external_data=False)) // 3
    run = lambda dst, work, **kw: npu_shards.quantize_graph_by_layer(  # noqa: E731
        path, dst, feeds, opts, lines.append, "flow_velocity", max_shard_bytes=limit, work=work, **kw)
    lines = []
    (tmp_path / "ref").mkdir()
    ref = run(tmp_path / "ref" / "flow_velocity.onnx", None)
    n = sum("QDQ" in m for m in lines)
    assert n >= 3

    def stop_after(k):
        if k == 1:
            raise _Stop

    work = tmp_path / "work"
    (tmp_path / "a").mkdir()
    lines.clear()
    with pytest.raises(_Stop):
        run(tmp_path / "a" / "flow_velocity.onnx", work, after_shard=stop_after)
    assert sorted(p.name for p in work.iterdir() if p.name.startswith("q")) == ["q0", "q1"]
    lines.clear()
    got = run(tmp_path / "a" / "flow_velocity.onnx", work)
    assert sum("QDQ (from the work directory)" in m for m in lines) == 2, lines
    assert sum(m.endswith("QDQ") for m in lines) == n - 2, lines
    for x, y in zip(ref, got):
        assert x.read_bytes() == y.read_bytes(), x.name

    # a shard whose FP32 graph changed is quantised again (and so is every one after it)
    npu_shards.mark_done(work / "q0", "something else")
    lines.clear()
    run(tmp_path / "a" / "flow_velocity.onnx", work)
    assert not any("from the work directory" in m for m in lines), lines


@pytest.mark.slow
def test_a_killed_qnn_htp_export_resumes_from_its_work_directory(tiny_checkpoint_dir, tmp_path,  # noqa: F811
                                                                  monkeypatch):
    """`vox-edge export --target qnn-htp --work-dir W` interrupted after its second backbone layer, run again the
    same way: it takes the calibration and the layers done from W and writes the graphs an uninterrupted export
    writes, byte for byte; W's folder for the export is gone once the bundle is written."""
    from vox_edge.export.bundle import export_bundle
    from vox_edge.export.npu_target import NpuShapes
    from vox_edge.manifest import load_manifest

    monkeypatch.setattr(npu_shards, "SHARD_BYTES", 1)
    monkeypatch.setattr(npu_shards, "CALIBRATION_FP32_BYTES", 0)
    shapes = NpuShapes(seq_len=8, context=256)
    ref = export_bundle(tiny_checkpoint_dir, tmp_path / "ref", target="qnn-htp", npu_shapes=shapes,
                        progress=lambda m: None)

    def killed(m):
        if "backbone shard 2/" in m:
            raise _Stop(m)

    work = tmp_path / "work"
    with pytest.raises(_Stop):
        export_bundle(tiny_checkpoint_dir, tmp_path / "b", target="qnn-htp", npu_shapes=shapes, progress=killed,
                      work_dir=work)
    assert not (tmp_path / "b").exists()
    lines = []
    out = export_bundle(tiny_checkpoint_dir, tmp_path / "b", target="qnn-htp", npu_shapes=shapes,
                        progress=lines.append, work_dir=work)
    assert any(m.startswith("[export] calibration: from the work directory") for m in lines), lines
    assert sum("backbone shard" in m and "from the work directory" in m for m in lines) == 2, lines
    assert any("flow_velocity shard" in m for m in lines), lines  # the flow head through the layer shards too
    assert not work.exists()
    a, b = load_manifest(ref, verify="size"), load_manifest(out, verify="size")
    assert a.graphs.keys() == b.graphs.keys()
    files = sorted(p.name for p in ref.iterdir() if p.suffix in (".onnx", ".data"))
    assert files == sorted(p.name for p in out.iterdir() if p.suffix in (".onnx", ".data"))
    for name in files:
        assert (ref / name).read_bytes() == (out / name).read_bytes(), name
