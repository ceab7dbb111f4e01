"""Playback through the sound card while audio is generated (`vox-edge speak --play`).

sounddevice (and the PortAudio library under it) is optional and imported only here, only when asked;
every way it can be missing becomes one AudioDeviceError line that says what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vox_edge.errors import AudioDeviceError

_ALT = "or write a file with --out FILE.wav instead"


def open_sounddevice() -> Any:
    """Import sounddevice and check there is a default output device; -> the module."""
    try:
        import sounddevice as sd
    except ImportError:
        raise AudioDeviceError(f"--play needs the 'sounddevice' package: pip install 'vox-edge[audio]', {_ALT}.") from None
    except OSError as e:  # the wheel imports but PortAudio itself is missing
        raise AudioDeviceError(f"--play needs the PortAudio library ({e}); install it (e.g. `apt install "
                               f"libportaudio2`), {_ALT}.") from None
    try:
        info = sd.query_devices(kind="output")
    except Exception as e:  # noqa: BLE001 - PortAudioError / ValueError: no default output device
        raise AudioDeviceError(f"--play: no audio output device found ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
                               f"connect or enable one, {_ALT}.") from None
    if not info or int(info.get("max_output_channels", 0)) < 1:
        raise AudioDeviceError(f"--play: the default audio device has no output channels; {_ALT}.")
    return sd


class Player:
    """A mono float32 output stream; `write` blocks while the device plays, so playback keeps pace."""

    def __init__(self, sd: Any, sample_rate: int):
        try:
            self._stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32")
            self._stream.start()
        except Exception as e:  # noqa: BLE001 - device busy / unsupported rate
            raise AudioDeviceError(f"--play: cannot open the audio output at {sample_rate} Hz ({e}); {_ALT}.") from None

    def write(self, samples: np.ndarray) -> None:
        if samples.size:
            self._stream.write(np.ascontiguousarray(samples, dtype=np.float32).reshape(-1, 1))

    def close(self) -> None:
        self._stream.stop()  # stop() lets the buffered audio finish playing
        self._stream.close()

    def __enter__(self) -> "Player":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
