"""Structured logs: the pool's context (pid, exit, task, path) comes out as key=value pairs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from backend.logging_setup import configure_logging


@pytest.fixture
def backend_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("backend")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def test_log_lines_carry_their_context_as_key_value_pairs(backend_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream)
    configure_logging("INFO", stream)  # idempotent: still one line per record
    logging.getLogger("backend.core.pool").warning(
        "worker crashed; retrying the image once",
        extra={"pid": 4242, "exit": "signal 9", "task_id": "3.17",
               "path": "/photos/my cat.jpg", "attempt": 1})
    logging.getLogger("backend.core.pool").debug("below the level")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert " WARNING backend.core.pool worker crashed; retrying the image once " in lines[0]
    assert lines[0].endswith(
        'pid=4242 exit="signal 9" task_id=3.17 path="/photos/my cat.jpg" attempt=1')


def test_the_level_comes_from_the_environment(
    backend_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGE_OPTIMIZER_LOG", "debug")
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("backend.core.optimizer").debug("batch submitted", extra={"images": 3})
    assert stream.getvalue().rstrip().endswith("DEBUG backend.core.optimizer batch submitted "
                                               "images=3")
