"""The recipe of vox-edge's default voice (training/voice_v2/README.md) and its shared parts (training/README.md).

Run its scripts from the repository root as modules, e.g. `python -m training.tts.train`. Not installed with
vox-edge: training needs torch and the teacher tools, the runtime never imports it.
"""
