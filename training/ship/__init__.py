"""Stage 4: the release-format checkpoint, the gated packaging of the default voice, recovery from a bundle."""
