"""FP32 ONNX graph -> FP16 / INT8 / INT4 variants, and the measurements behind the defaults.

    plan.py          precision spec ("int8", "int4-b128", "int8-static", ...) -> QuantPlan; quantize_graph()
    fp16.py          FP16 for GPU / NPU EPs (onnxruntime.transformers.float16, FP32 I/O)
    int8.py          dynamic (QInt8 weights) and static QDQ (calibrated) INT8
    int4.py          MatMulNBits weight-only 4-bit
    nncf_backend.py  NNCF for OpenVINO-targeted graphs
    calibrate.py     calibration feeds recorded from the PyTorch reference
    agreement.py     NumPy Euler+CFG loop over the flow graphs, code agreement, waveform distance, timing
    report.py        `python -m vox_edge.quantize.report CKPT WORK`: every variant against FP32
    conv_report.py   `python -m vox_edge.quantize.conv_report FP32_BUNDLE WORK`: how to store codec conv weights
    graph_passes.py  Gemm -> MatMul, topological sort, conv weights int8 / FP16 weight-only
    onnx_io.py       save with external data past 1 GiB

Measured numbers and the reasons for each default: README.md in this folder.
"""
