"""vox-edge: offline, on-device Voxtral-architecture text-to-speech.

The root package holds only what both sides (export and runtime) share: typed errors,
the model config read from params.json, and the bundle manifest contract.
It imports nothing beyond numpy and the standard library.
"""

__version__ = "0.1.0"
