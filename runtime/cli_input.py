"""The text of one `vox-edge speak` request, read with a bound: argument, stdin ("-") or --text-file.

Every source is held to the same rules: at most `max_bytes` of UTF-8 (reading stops one byte past the limit, so
/dev/zero or an endless pipe fails at once instead of filling memory), strict UTF-8 (invalid bytes are refused,
never replaced), and text with nothing to speak is the one NOTHING_TO_SPEAK error.
"""

from __future__ import annotations

import sys
from typing import Any

from vox_edge.errors import TextError

NOTHING_TO_SPEAK = ("nothing to speak: the text is empty or has no speakable characters (only whitespace, "
                    "symbols, emoji or control characters). Pass words to speak.")


def _too_long(what: str, max_bytes: int, fix: str = "split the text or raise --max-text-bytes") -> TextError:
    return TextError(f"{what} is longer than {max_bytes} bytes, the limit of one request: {fix}.")


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TextError(f"{what} is not UTF-8 text ({e.reason} at byte {e.start}); convert it to UTF-8.") from None


def read_bounded(stream: Any, max_bytes: int, what: str, fix: str = "split the text or raise --max-text-bytes") -> str:
    """At most max_bytes of strict UTF-8 from a binary stream (TextError naming `what` and the `fix` otherwise)."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_long(what, max_bytes, fix)
    return _decode(data, what)


def _check_str(text: str, max_bytes: int, what: str) -> str:
    """Text that arrived as str (argv, a text-mode stdin): same limit; undecodable bytes (surrogates) refused."""
    try:
        data = text.encode("utf-8", "surrogateescape")  # argv keeps undecodable bytes as surrogate escapes
    except UnicodeEncodeError as e:
        raise TextError(f"{what} is not valid Unicode text (a lone surrogate at character {e.start}).") from None
    if len(data) > max_bytes:
        raise _too_long(what, max_bytes)
    return _decode(data, what)


def read_text(text: str | None, text_file: str | None, max_bytes: int) -> str:
    """The request's text from the `speak` arguments; TextError with the fix for anything unusable."""
    if text is not None and text_file:
        raise TextError("give the text either as an argument or with --text-file, not both.")
    if text_file:
        what = f"--text-file {text_file}"
        try:
            with open(text_file, "rb") as f:
                out = read_bounded(f, max_bytes, what)
        except FileNotFoundError:
            raise TextError(f"{what}: no such file.") from None
        except IsADirectoryError:
            raise TextError(f"{what}: is a directory, not a text file.") from None
        except OSError as e:
            raise TextError(f"{what}: cannot read ({e.strerror or e}).") from None
    elif text == "-":
        buffer = getattr(sys.stdin, "buffer", None)
        try:
            out = (read_bounded(buffer, max_bytes, "stdin") if buffer is not None
                   else _check_str(sys.stdin.read(max_bytes + 1), max_bytes, "stdin"))
        except OSError as e:
            raise TextError(f"stdin: cannot read ({e.strerror or e}).") from None
    elif text is not None:
        out = _check_str(text, max_bytes, "the text argument")
    else:
        raise TextError('no text: pass it as an argument, "-" to read stdin, or --text-file FILE.')
    if not out.strip():
        raise TextError(NOTHING_TO_SPEAK)
    return out
