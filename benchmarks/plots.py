"""PNG plots of a bench run (matplotlib, Agg: no display needed)."""

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from benchmarks.stats import Spread

if TYPE_CHECKING:
    from benchmarks.bench import Results

COLORS = {"stock": "#9e9e9e", "ours": "#2e7d32"}
NAMES = {"stock": "stock FastAPI Users", "ours": "this app"}


def throughput(results: "Results", path: Path) -> bool:
    tests = {"users_me": "GET /users/me", "task_list": "GET /task/?limit=20\n(20 tasks)"}
    present = [test for test in tests if test in results.throughput]
    if not present:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.2))
    width = 0.38
    for offset, key in ((-width / 2, "stock"), (width / 2, "ours")):
        spreads = [Spread.of(results.throughput[test][key]) for test in present]
        xs = [i + offset for i in range(len(present))]
        heights = [s.median for s in spreads]
        errors = [[s.median - s.low for s in spreads], [s.high - s.median for s in spreads]]
        bars = ax.bar(xs, heights, width, yerr=errors, capsize=4, color=COLORS[key], label=NAMES[key])
        ax.bar_label(bars, labels=[f"{h:,.0f}" for h in heights], padding=3, fontsize=9)
    ax.set_xticks(range(len(present)), [tests[test] for test in present])
    ax.set_ylabel("requests/s (median round, min–max bars)")
    ax.set_title(
        f"Authenticated throughput, one worker each, wrk with {results.plan.connections} connections"
    )
    ax.legend(loc="upper right")
    ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def login_storm(results: "Results", path: Path) -> bool:
    if not results.storm or not all(results.storm.get(key) for key in COLORS):
        return False
    fig, axes = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True, sharey=True)
    for ax, key in zip(axes, ("stock", "ours"), strict=True):
        last = results.storm[key][-1]
        for samples, marker in ((last.idle, "."), (last.storm, ".")):
            ax.plot(
                [t for t, _ in samples], [ms for _, ms in samples], marker, markersize=3, color=COLORS[key]
            )
        ax.axvspan(last.idle_seconds, last.idle_seconds + last.storm_seconds, color="#ffcc80", alpha=0.35)
        ax.set_yscale("log")
        ax.set_ylabel("probe latency, ms")
        ax.set_title(
            f"{NAMES[key]}: p99 {last.idle_p99:.1f} ms idle, {last.storm_p99:.1f} ms while "
            f"4 clients log in ({last.logins_with_probe:.1f} logins/s)",
            fontsize=10,
        )
        ax.text(0.01, 0.92, "idle", transform=ax.transAxes, fontsize=9, va="top")
        ax.text(
            last.idle_seconds + 0.2,
            0.92,
            "login storm",
            transform=ax.get_xaxis_transform(),
            fontsize=9,
            va="top",
        )
    axes[-1].set_xlabel("seconds (last round); GET /users/me at 50/s, one request at a time")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def listing(results: "Results", path: Path) -> bool:
    if not results.listing:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, figures in results.listing.items():
        summary = figures.summary()
        for part, style, label in (
            ("first_page", "-o", "first page"),
            ("offset_page", ":s", "page at offset N/2 (skip)"),
            ("next_hop", "--^", "next page via Link"),
        ):
            points = summary[part]
            if not points:
                continue
            sizes = sorted(points)
            ax.plot(
                sizes,
                [points[n]["median"] for n in sizes],
                style,
                color=COLORS[key],
                label=f"{NAMES[key]}: {label}",
            )
            ax.fill_between(
                sizes, [points[n]["median"] for n in sizes], [points[n]["p90"] for n in sizes],
                color=COLORS[key], alpha=0.12,
            )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    sizes = list(results.plan.list_sizes)
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("tasks of the user")
    ax.set_ylabel("GET /task/?limit=20, ms (median, band to p90)")
    ax.set_title("Listing 20 tasks against tasks per user (SecantusDB)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def memory(results: "Results", path: Path) -> bool:
    soak = results.soak
    if soak is None or len(soak.points) < 2:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot([n for n, _ in soak.points], [kib / 1024 for _, kib in soak.points], "-o", color=COLORS["ours"])
    ax.axvline(results.plan.soak_first, color="#999999", linestyle=":")
    ax.set_xlabel("mixed requests served")
    ax.set_ylabel("worker RSS, MiB", color=COLORS["ours"])
    ax.set_ylim(0, max(kib for _, kib in soak.points) / 1024 * 1.3)
    if soak.rates:
        rate_ax = ax.twinx()
        rate_ax.step([n for n, _ in soak.points[1:]], soak.rates, where="pre", color="#1565c0", alpha=0.6)
        rate_ax.set_ylabel("requests/s in each chunk", color="#1565c0")
        rate_ax.set_ylim(bottom=0)
    ax.set_title("This app's worker memory under mixed traffic")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def draw(results: "Results", out: Path, stem: str) -> list[tuple[str, Path]]:
    made = []
    for title, name, draw_one in (
        ("Throughput against stock FastAPI Users", "throughput", throughput),
        ("Probe latency during a login storm", "login-storm", login_storm),
        ("List latency against tasks per user", "listing", listing),
        ("Worker memory under mixed traffic", "memory", memory),
    ):
        path = out / f"{stem}-{name}.png"
        if draw_one(results, path):
            made.append((title, path))
    return made
