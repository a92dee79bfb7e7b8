"""Image formats: the registry (``registry.py``, no codec imports) and one encoder module per
output format (``jpeg.py``, ``png.py``, ``webp.py``, ``avif.py``), loaded through ``encoders.py``.

Kept empty so that importing the registry never loads a codec.
"""
