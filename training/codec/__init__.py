"""Stage 2: the small Voxtral-architecture codec: model, data, losses, training loop, evaluation."""
