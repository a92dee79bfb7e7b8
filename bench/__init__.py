"""The bench: repeatable speed and memory scenarios for the engine, against the original's.

``python -m bench.run`` (``make bench``) writes ``bench/results/``; see ``bench/README.md``.
Decisions, where the issue left room:

- Corpus from packages only (scikit-image's photos, Debian wallpaper packages), cached in
  ``bench/.cache/``; licences recorded per file. Synthetic images only in their own scenario.
- Every contender runs in a fresh subprocess; repetitions are interleaved and reported as
  median and spread; warm-up is never timed (the app warms its pool at launch).
- "Pool vs in-process loop" compares the pool with one worker to the loop: same core count, so
  the ratio is the pool's overhead. Pool-N against N loops is shown but not held to a target.
- The sharp peer is the original's exact sidecar settings on sharp 0.35.5, one libvips thread
  per image and N images in flight for N workers.
- Targets are reported (yes/NO), never turned into a failing exit code: the bench measures.
"""
