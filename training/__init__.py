"""The recipe of vox-edge's default voice (training/README.md), one sub-package per stage.

Run its scripts from the repository root as modules, e.g. `python -m training.tts.train`. Not installed with
vox-edge: training needs torch and the teacher tools, the runtime never imports it.
"""
