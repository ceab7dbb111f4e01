"""Typed errors raised at vox-edge's boundaries.

Every message names the fix. The CLI prints `str(err)` on one line and exits non-zero
(exit code = `err.exit_code`), never a traceback.
"""


class VoxEdgeError(Exception):
    """Base class of every error vox-edge raises on purpose."""

    exit_code = 2


class CheckpointError(VoxEdgeError):
    """A checkpoint directory is missing a file, a key, or has a tensor of the wrong shape."""


class ConfigError(VoxEdgeError):
    """params.json (or a custom-dims request) is missing a field or is inconsistent."""


class TokenizerError(VoxEdgeError):
    """tekken.json is malformed, or text cannot be tokenised."""


class VoiceError(VoxEdgeError):
    """Unknown voice name, or a voice file of the wrong shape."""


class ManifestError(VoxEdgeError):
    """A bundle's manifest.json is missing, of another schema version, or does not fit its files."""


class BundleIntegrityError(ManifestError):
    """A bundle file is missing or its sha256 does not match the manifest."""


class ProfileError(VoxEdgeError):
    """A device profile is unknown, malformed, or impossible on this machine."""


class TextError(VoxEdgeError):
    """Input text that cannot be spoken (e.g. not valid text at all)."""


class SSMLError(TextError):
    """SSML markup outside the supported subset, or malformed; the message names the element and the fix."""


class ExportError(VoxEdgeError):
    """Export or quantisation failed; the message says which graph and why."""


class AudioDeviceError(VoxEdgeError):
    """Playback was asked for but no audio device / PortAudio is available."""


class OutputError(VoxEdgeError):
    """An output path cannot be written (missing folder, a directory, no permission, another writer)."""


class BundleConfinementError(ManifestError):
    """A manifest names a file outside its bundle directory (absolute path, '..', or a symlink leading out)."""


class AudioBudgetWarning(UserWarning):
    """A request's audio budget (derived from its text as written) ended the audio before the text was spoken."""


class FlowStepsWarning(UserWarning):
    """A call asked for fewer flow (Euler) steps than its bundle's model was measured to need
    (manifest `synthesis.min_flow_steps`); the engine runs them as asked and warns once per engine."""


class ProviderError(VoxEdgeError):
    """An execution provider is not installed, offers no device here, or cannot start a bundle's graph."""
