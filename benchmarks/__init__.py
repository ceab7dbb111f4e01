"""vox-edge benchmarks: `vox-edge bench` (cli_bench -> runner) and the comparison scripts (compare.py).

Everything the bench command imports is numpy + onnxruntime + vox_edge's runtime side; only the comparison
scripts that build bundles touch the exporter (and so torch), and they import it inside functions.
"""
