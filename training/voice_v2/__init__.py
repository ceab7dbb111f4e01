"""Default voice v2: a Voxtral-shaped small model whose codec decoder ends in a source-filter renderer.

The teacher is hibari-tts (Apache-2.0), a small English voice whose network outputs the parameters of a
pulse + noise source-filter renderer. This recipe reuses the teacher's own frame decoder behind a learned
12.5 Hz code bottleneck; see README.md in this folder.
"""
