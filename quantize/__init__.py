"""FP32 ONNX graph -> FP16 / INT8 / INT4 variants, and the measurements behind the defaults.

    plan.py          precision spec ("int8", "int4-b128", "int8-static", ...) -> QuantPlan; quantize_graph()
    fp16.py          FP16 for GPU / NPU EPs (onnxruntime.transformers.float16, FP32 I/O)
    int8.py          dynamic (QInt8 weights) and static QDQ (calibrated) INT8
    int4.py          MatMulNBits weight-only 4-bit
    nncf_backend.py  NNCF for OpenVINO-targeted graphs
    agreement.py     codes of a flow-graph set through the runtime's flow head, code agreement, waveform distance, timing
    conv_report.py   `python -m vox_edge.quantize.conv_report FP32_BUNDLE WORK`: how to store codec conv weights
    graph_passes.py  Gemm -> MatMul, topological sort, conv weights int8 / FP16 weight-only
    onnx_io.py       save with external data past 1 GiB

Nothing here imports vox_edge.export (export calls into this package, never the reverse): the calibration
recorder (export/calibrate.py) and the per-checkpoint variant report (export/quantize_report.py) run the
PyTorch reference, so they live in export. Measured numbers and the reasons for each default: README.md in
this folder.
"""
