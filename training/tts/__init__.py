"""The backbone + acoustic head on codec codes (stage 4 of training/voice_v2): vocabulary, model, data, training
loop, evaluation."""
