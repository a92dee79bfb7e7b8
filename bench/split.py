"""The corpus cut in two by image: a *tune* split to choose settings on, a *held-out* split to
report them on, so a setting chosen because it flatters some images is judged on others.

The split is fixed by the full corpus (``bench/corpus.py``'s ``PICKS``), not by what a run
happens to have: an image is in the same split in the quick and the full corpus, in every run.
Stratified by (format, kind), so both splits have JPEG and PNG, photos and artwork: within each
stratum the images are ordered by the SHA-256 of their name (an order nobody chose) and dealt
alternately, tune first, so the two splits of a stratum differ by at most one image.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, Protocol

from bench.corpus import PICKS

Split = Literal["tune", "held-out"]
SplitChoice = Literal["tune", "held-out", "all"]
SPLITS: tuple[Split, ...] = ("tune", "held-out")


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...


def _format(name: str) -> str:
    return "jpeg" if name.endswith(".jpg") else "png"


def assign(images: Iterable[Named]) -> dict[str, Split]:
    """Each image's split, dealt within its (format, kind) stratum as the module says."""
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for im in images:
        strata[(_format(im.name), im.kind)].append(im.name)
    out: dict[str, Split] = {}
    for names in strata.values():
        ordered = sorted(names, key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        for i, name in enumerate(ordered):
            out[name] = SPLITS[i % 2]
    return out


CORPUS_SPLIT: dict[str, Split] = assign(PICKS)


def split_of(name: str) -> Split:
    """The split of a corpus image (a crop keeps its image's name, so its split)."""
    try:
        return CORPUS_SPLIT[name]
    except KeyError:
        raise ValueError(f"{name} is not a corpus image (bench/corpus.py PICKS)") from None


def in_split(name: str, choice: SplitChoice) -> bool:
    return choice == "all" or split_of(name) == choice
