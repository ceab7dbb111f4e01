"""Stage 1, text: the corpus (make.py; the data lives beside it) and the pronunciation lexicon (lexicon_build.py)."""
