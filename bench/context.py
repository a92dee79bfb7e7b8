"""What every scenario of one bench run shares: options, machine, inputs, the sharp peer, speeds.

Inputs are built on first use only, so ``--scenario many_small`` never downloads the wallpaper
packages, and a run without the sharp peer never calls npm.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

from bench.contenders import Contender
from bench.corpus import build_corpus
from bench.measure import Need
from bench.peer_sharp import PeerUnavailable, ensure_sharp
from bench.schema import CorpusImage, MachineInfo, RunOptions, SpeedStat
from bench.synthetic import build_small_set, build_synthetic


@dataclass
class Context:
    options: RunOptions
    cache_dir: Path
    machine: MachineInfo | None = None
    speeds: dict[Need, list[SpeedStat]] = field(default_factory=dict)
    corpus_notes: list[str] = field(default_factory=list)

    @functools.cached_property
    def scratch(self) -> Path:
        """Outputs of this bench run only, so a test run and a bench run never collide."""
        return self.cache_dir / "scratch" / f"run-{os.getpid()}"

    @functools.cached_property
    def real_images(self) -> list[CorpusImage]:
        images, notes = build_corpus(self.cache_dir, self.options.mode)
        self.corpus_notes.extend(notes)
        return images

    @functools.cached_property
    def synthetic_images(self) -> list[CorpusImage]:
        return build_synthetic(self.cache_dir, self.options.mode)

    @functools.cached_property
    def small_images(self) -> list[str]:
        return build_small_set(self.cache_dir, self.options.small_images)

    @functools.cached_property
    def sharp(self) -> Path | PeerUnavailable:
        """The sharp install, or why the peer cannot run on this machine."""
        try:
            return ensure_sharp(self.cache_dir)
        except PeerUnavailable as exc:
            return exc

    def image_set(self, name: str) -> dict[str, list[CorpusImage]]:
        """An image set split into its timed groups, one per format."""
        images = self.real_images if name == "real" else self.synthetic_images
        groups: dict[str, list[CorpusImage]] = {}
        for im in images:
            groups.setdefault(im.format, []).append(im)
        return groups

    def stats(self, image_set: str, contender: Contender) -> list[SpeedStat] | None:
        return self.speeds.get(Need(image_set, contender))

    @property
    def pool_workers(self) -> list[int]:
        return self.options.workers

    @property
    def max_workers(self) -> int:
        return max(self.options.workers)
