"""msgspec Structs for everything the bench writes or sends to a contender's subprocess.

The JSON in ``bench/results/`` is the source of truth; the markdown is rendered from it. Jobs go
to the child processes (Python for our engine, Node for sharp) as JSON on stdin and come back as
JSON on stdout, so both sides agree on one typed shape.
"""

from __future__ import annotations

from typing import Any, Literal

from msgspec import Struct, field

Engine = Literal["loop", "pool", "sharp"]
ImageFormat = Literal["jpeg", "png"]
ImageKind = Literal["photo", "artwork", "synthetic"]


class CorpusImage(Struct, kw_only=True):
    """One input image, where it came from and under which licence."""

    name: str
    path: str
    format: ImageFormat
    kind: ImageKind
    width: int
    height: int
    bytes: int
    source: str  # "debian:<package> <version>", "pypi:scikit-image <version>", "bench.synthetic"
    origin: str  # path inside the package, or how a synthetic image was made
    licence: str

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


# ── jobs for the contender subprocesses ────────────────────────────────────────────────────────


class JobImage(Struct, kw_only=True):
    input: str
    output: str
    format: ImageFormat


class JobGroup(Struct, kw_only=True):
    """Images timed as one batch (one format of the corpus)."""

    name: str
    images: list[JobImage]


class SpeedJob(Struct, kw_only=True):
    engine: Engine
    workers: int
    groups: list[JobGroup]
    sharp_dir: str | None = None  # where the bench installed the npm package (sharp only)


class GroupRun(Struct, kw_only=True):
    """One timed batch. Sizes and pixel counts come from the corpus, not from the contender."""

    name: str
    wall_s: float
    first_result_s: float | None = None
    failed: int = 0
    kept_original: int = 0
    errors: list[str] = field(default_factory=list)
    stages: dict[str, float] | None = None  # seconds summed over images (ours only)
    cpu_s: float | None = None  # CPU seconds of the contender's processes (ours only)
    benchmark: dict[str, Any] | None = None  # the pool's BenchmarkReport, as builtins
    benchmark_text: str | None = None  # and as its own render()


class SpeedRun(Struct, kw_only=True):
    engine: Engine
    workers: int
    groups: list[GroupRun]
    versions: dict[str, str] = field(default_factory=dict)
    start_s: float | None = None  # pool start-up (spawn + warm-up), not part of any wall time


class LatencyJob(Struct, kw_only=True):
    workers: int
    image: JobImage
    repeats: int


class LatencyRun(Struct, kw_only=True):
    cold_start_s: float
    pool_s: list[float]  # warm pool: submit → result back in the caller
    first_event_s: list[float]  # warm pool: submit → first progress event at a subscriber
    in_process_s: list[float]  # the same image through optimize_file in the calling process


class ManySmallJob(Struct, kw_only=True):
    workers: int
    inputs: list[str]
    out_dir: str
    sample_interval_s: float = 0.05


class ManySmallRun(Struct, kw_only=True):
    wall_s: float
    images: int
    failed: int
    rss_baseline_mb: float
    rss_peak_mb: float
    rss_final_mb: float
    rss_first_half_peak_mb: float
    rss_second_half_peak_mb: float
    rss_trace: list[tuple[float, float]]  # (seconds since submit, MB), thinned for the JSON
    events: int
    events_per_s: float
    events_peak_1s: int
    final_status: str
    final_completed: int
    final_total: int


# ── results ────────────────────────────────────────────────────────────────────────────────────


class MachineInfo(Struct, kw_only=True):
    cpu_count: int
    cpu_model: str
    memory_gb: float
    platform: str
    python: str
    versions: dict[str, str]
    load_average_start: tuple[float, float, float]
    # Share of the machine's CPU time that processes outside the bench used while it ran:
    # the honest noise indicator on a shared machine (the load average counts the bench too).
    other_cpu_share: float | None = None


class RunOptions(Struct, kw_only=True):
    mode: Literal["full", "quick", "smoke"]
    repeat: int
    workers: list[int]
    small_images: int


class SpeedStat(Struct, kw_only=True):
    """One contender on one group of images, over every repetition."""

    engine: Engine
    workers: int
    group: str
    images: int
    megapixels: float
    bytes_in: int
    bytes_out: int
    wall_s: list[float]
    median_s: float
    spread_pct: float  # (max - min) / median
    mp_per_s: float
    images_per_s: float
    failed: int
    kept_original: int
    first_result_s: float | None = None
    cores_busy: float | None = None  # CPU seconds / wall seconds, median run (ours only)
    stages: dict[str, float] | None = None
    benchmark: dict[str, Any] | None = None
    benchmark_text: str | None = None
    errors: list[str] = field(default_factory=list)


class TargetCheck(Struct, kw_only=True):
    name: str
    target: str
    measured: str
    met: bool | None  # None: could not be measured in this run


class Table(Struct, kw_only=True):
    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str | None = None


class TextBlock(Struct, kw_only=True):
    """Preformatted text shown as is, such as the pool's own benchmark report."""

    title: str
    text: str


class ScenarioResult(Struct, kw_only=True):
    name: str
    title: str
    description: str
    options: RunOptions
    machine: MachineInfo
    corpus: list[CorpusImage] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # scenario-specific measurements
    tables: list[Table] = field(default_factory=list)
    blocks: list[TextBlock] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None
    started: str = ""
    duration_s: float = 0.0
