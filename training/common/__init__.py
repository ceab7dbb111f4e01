"""What every stage shares: checkpoint files, the learning-rate schedule, WER scoring, repository paths."""
