"""Stage 3: backbone + acoustic head on codec codes: vocabulary, model, data, training loop, evaluation."""
