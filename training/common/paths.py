"""The repository root, which the recipe's default data paths (training/corpus, training/lexicon, ...) hang off."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
