"""Stage 1, audio: the teacher (Kokoro, generate.py) and its ASR filter; these run in the teacher venv."""
