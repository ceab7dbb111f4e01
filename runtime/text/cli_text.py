"""`vox-edge text`: print the segments exactly as the model will read them, with the breaks between them.

    vox-edge text "In 200 m rechts abbiegen, Ankunft 14:35 Uhr." --lang de
    vox-edge text '<speak>Turn left.<break time="700ms"/>Then straight on.</speak>'
    vox-edge text "Peugeot 208" --lexicon my_words.tsv --lang fr

One line per segment: its number and text, or `break` and the silence in milliseconds. This is what a user runs
to debug a pronunciation: no bundle is loaded and nothing is synthesised.
"""

from __future__ import annotations

import argparse
from typing import Any

from vox_edge.cli_args import name
from vox_edge.config import DEFAULT_MAX_TEXT_BYTES

from .pipeline import Break, to_segments


def add_text_command(subparsers: Any) -> None:
    tp = subparsers.add_parser("text", help="print the segments the model will read (normalised, split, breaks)")
    tp.add_argument("text", nargs="?", help='the text (plain, or SSML starting with <speak>); "-" reads stdin')
    tp.add_argument("--text-file", metavar="FILE", help="read the text from a UTF-8 file")
    tp.add_argument("--lang", type=name, help="en fr es de it pt nl ar hi, or auto (default: from --voice, else en)")
    tp.add_argument("--voice", type=name, help="the voice whose language is the default (fr_male -> fr)")
    tp.add_argument("--ssml", action="store_true", help="read the text as SSML (a fragment is wrapped in <speak>)")
    tp.add_argument("--lenient-ssml", action="store_true", help="ignore unsupported SSML with a warning")
    tp.add_argument("--lexicon", metavar="FILE.tsv", help="user lexicon: word<TAB>spoken form (docs/text.md)")
    tp.add_argument("--no-normalize", action="store_true", help="split only: numbers and symbols as written")
    tp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from vox_edge.runtime.cli_input import read_text
    from vox_edge.runtime.plan import language_of_voice

    text = read_text(args.text, args.text_file, DEFAULT_MAX_TEXT_BYTES)
    voice_lang = language_of_voice(args.voice) if args.voice else "en"
    segments = to_segments(text, args.lang or voice_lang, normalize=not args.no_normalize,
                           ssml=True if args.ssml else None, lexicon=args.lexicon, lenient=args.lenient_ssml,
                           default_lang=voice_lang)
    n = 0
    for seg in segments:
        if isinstance(seg, Break):
            print(f"break\t{seg.seconds * 1000:.0f} ms")
        else:
            n += 1
            print(f"{n}\t{seg}")
    return 0
