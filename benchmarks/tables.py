"""Medians, percentiles and Markdown tables: what every benchmark prints, on
either host (imports no Django)."""

import statistics
from contextlib import contextmanager
from typing import List


def median(values: List[float]) -> float:
    return statistics.median(values)


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


@contextmanager
def section(title: str):
    print(f"\n## {title}\n", flush=True)
    yield


def table(headers: List[str], rows: List[List]) -> None:
    """A Markdown table, as pasted into benchmarks/README.md."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(flush=True)
