"""Bounds on the audio one request makes, whatever the model does.

* The audio budget, derived from the text as the user wrote it (before normalisation turns "9999" into words):
  AUDIO_BUDGET_BASE_SECONDS + AUDIO_BUDGET_SECONDS_PER_CHAR per character, at most max_audio_seconds
  (vox_edge.config; device profiles and per-call options can lower or raise the ceiling). The engine warns
  (AudioBudgetWarning) when the budget ends the audio before the text.
* A safety net for a model that fails to stop: a long enough run of frames the codec renders as silence ends the
  segment (the END_AUDIO the model should have produced). Off (0 s) for exact-parity runs.
* A safety net for a model that babbles instead of stopping: a window of semantic codes that cycles through a few
  values (RepetitionRun) ends the segment. Off unless the bundle or the call sets its window.
"""

from __future__ import annotations

import math
from collections import Counter, deque

import numpy as np

from vox_edge.config import (AUDIO_BUDGET_BASE_SECONDS, AUDIO_BUDGET_SECONDS_PER_CHAR, DEFAULT_MAX_AUDIO_SECONDS,
                             REPETITION_HELD_SHARE, REPETITION_MAX_DISTINCT_SHARE, SILENCE_RMS)


def audio_budget_frames(text: str, frame_rate: float, max_seconds: float = DEFAULT_MAX_AUDIO_SECONDS) -> int:
    """Generation steps one request may take, from the length of its text as written."""
    seconds = min(max_seconds, AUDIO_BUDGET_BASE_SECONDS + AUDIO_BUDGET_SECONDS_PER_CHAR * len(text))
    return int(math.ceil(frame_rate * seconds))


class SilenceRun:
    """Counts consecutive silent frames of a segment's decoded audio; `feed` says when the run is long enough."""

    def __init__(self, stop_frames: int, samples_per_frame: int, rms: float = SILENCE_RMS):
        self.stop_frames = int(stop_frames)
        self.spf = int(samples_per_frame)
        self.threshold = float(rms)
        self.run = 0

    def feed(self, audio: np.ndarray) -> bool:
        """audio: [k · samples_per_frame] float32, the next decoded frames. True once the run reaches stop_frames."""
        if self.stop_frames <= 0 or audio.size < self.spf:
            return False
        frames = audio[: audio.size // self.spf * self.spf].reshape(-1, self.spf).astype(np.float64)
        for quiet in np.sqrt(np.mean(frames * frames, axis=1)) < self.threshold:  # NaN is not quiet
            self.run = self.run + 1 if quiet else 0
            if self.run >= self.stop_frames:
                return True
        return False


class RepetitionRun:
    """Watches a segment's semantic codes; `feed` says when the last `window` of them cycle through at most
    window · REPETITION_MAX_DISTINCT_SHARE distinct values with no value holding REPETITION_HELD_SHARE of the window
    (a held vowel or a pause is left to the silence net). Speech keeps changing its semantic code from frame to
    frame; a model that has lost its place in the text repeats one syllable, a handful of codes in turn."""

    def __init__(self, window: int):
        self.window = int(window)
        self.recent: deque[int] = deque(maxlen=max(1, self.window))

    def feed(self, semantic: int) -> bool:
        """semantic: the frame's semantic code. True once the window is a repetition loop."""
        if self.window <= 0:
            return False
        self.recent.append(int(semantic))
        if len(self.recent) < self.window:
            return False
        counts = Counter(self.recent)
        return (len(counts) <= self.window * REPETITION_MAX_DISTINCT_SHARE
                and max(counts.values()) < self.window * REPETITION_HELD_SHARE)
