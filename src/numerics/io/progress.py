"""Progress bars (rich) for anything that takes more than a few seconds.

Bars go to stderr, so ``--json`` output on stdout stays clean; ``enabled=False`` silences them
(tests, library use).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


@contextmanager
def progress_bar(description: str, total: int | None, enabled: bool = True):
    """Context manager yielding ``advance(n=1)``; a no-op when ``enabled`` is false."""
    if not enabled:
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


def track(items: Iterable[T], description: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Iterate ``items`` with a progress bar."""
    items = list(items) if total is None else items
    with progress_bar(description, total if total is not None else len(items), enabled) as advance:
        for item in items:
            yield item
            advance()
