"""The few statistics the report uses: nearest-rank percentiles and median (min–max) summaries."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least p% of samples at or below it."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Spread:
    """The median of per-round figures, with the lowest and highest round."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        clean = [v for v in values if not math.isnan(v)]
        if not clean:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(clean), min(clean), max(clean))

    def format(self, digits: int = 0, unit: str = "") -> str:
        if math.isnan(self.median):
            return "n/a"
        return f"{self.median:,.{digits}f}{unit} ({self.low:,.{digits}f}–{self.high:,.{digits}f})"

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high}


def ratio(ours: Sequence[float], stock: Sequence[float]) -> Spread:
    """Ours/stock per round (rounds alternate, so round i of each met the same conditions)."""
    return Spread.of([o / s for o, s in zip(ours, stock, strict=False) if s])
