# Sourced by codec/gpu.sh and tts/gpu.sh from the repo root: the package as pyproject's package-dir lays it out, at
# /tmp/pkg (no pip build on a machine that can fetch nothing); the caller puts /tmp/pkg on PYTHONPATH.
rm -rf /tmp/pkg && mkdir -p /tmp/pkg && cp -r src/vox_edge /tmp/pkg/ && for d in export quantize runtime; do
  cp -r $d /tmp/pkg/vox_edge/$d; done
