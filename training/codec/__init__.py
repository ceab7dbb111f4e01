"""Whisper scoring of audio samples (asr.py), run in the ASR venv by tts/train.py. The first voice's codec trainer
that gave the package its name is in git history (commit eb6fe83)."""
