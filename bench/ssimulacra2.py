"""``python -m bench.ssimulacra2 original.png distorted.png``: print the SSIMULACRA2 score.

The metric lives in the engine (``backend/core/ssimulacra2.py``: Auto quality runs it in the
workers); this is the command-line tool, printing as libjxl's ``ssimulacra2`` does.
"""

from __future__ import annotations

import argparse
import sys

from PIL import Image

from backend.core.ssimulacra2 import ssimulacra2

__all__ = ["main", "ssimulacra2"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ssimulacra2",
                                     description="SSIMULACRA2 score of a distorted image "
                                                 "against its original (100 = identical).")
    parser.add_argument("original")
    parser.add_argument("distorted")
    args = parser.parse_args(argv)
    with Image.open(args.original) as a, Image.open(args.distorted) as b:
        try:
            score = ssimulacra2(a, b)
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
    print(f"{score:.8f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
