"""The bench's report: a Markdown table (stdout and a dated file), raw figures as JSON, PNG plots."""

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import plots
from benchmarks.stats import Spread, ratio

if TYPE_CHECKING:
    from benchmarks.bench import Results

REPORTS = Path(__file__).resolve().parent / "reports"
APPS = ("stock", "ours")


def met(value: float, target: float, *, at_most: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return "yes" if (value <= target if at_most else value >= target) else "**no**"


def ms(summary: dict[int, dict[str, float]] | None, size: int) -> str:
    figures = (summary or {}).get(size)
    return f"{figures['median']:.1f} / {figures['p90']:.1f}" if figures else "n/a"


def throughput_rows(results: "Results") -> list[list[str]]:
    rows = []
    labels = {
        "users_me": ("a. `GET /users/me`, requests/s (wrk, 16 connections)", 1.3),
        "task_list": ("b. `GET /task/?limit=20` of a user with 20 tasks, requests/s", 1.5),
        "refresh": ("g. refresh (`POST /auth/jwt/refresh`), requests/s (wrk, 8 sessions)", None),
        "login": ("h. login, right password, requests/s (wrk, 4 connections)", None),
    }
    for test, (label, target) in labels.items():
        rates = results.throughput.get(test)
        if not rates:
            continue
        both = all(rates.get(key) for key in APPS)
        gain = ratio(rates["ours"], rates["stock"]) if both else Spread.of([])
        digits = 1 if test == "login" else 0  # a few logins a second
        rows.append(
            [
                label,
                Spread.of(rates["stock"]).format(digits) if both else "—",
                Spread.of(rates["ours"]).format(digits),
                gain.format(2, "×") if both else "",
                f"≥ {target}×" if target else "",
                met(gain.median, target) if target else "",
            ]
        )
        cpu = results.cpu_per_request.get(test, {})
        rows += cost_rows(label[:2], cpu, authed=test in AUTHED, digits=digits)
    return rows


AUTHED = ("users_me", "task_list")  # issue 20's target: app CPU per authed request ≤ half of stock's
APP_CPU_TARGET = 0.5


def cost_rows(
    letter: str, cpu: dict[str, dict[str, list[float]]], *, authed: bool, digits: int = 0
) -> list[list[str]]:
    """CPU per request of the app's worker and of SecantusDB, and requests per app-vCPU-second
    (what one core of app CPU serves: the figure Keycloak publishes for sizing)."""
    rows = []
    both = all(cpu.get(key, {}).get("app") for key in APPS)
    if not cpu.get("ours", {}).get("app"):
        return rows
    for part, who in (("app", "the app's worker"), ("database", "SecantusDB")):
        ours = cpu["ours"][part]
        stock = cpu["stock"][part] if both else []
        gain = ratio(ours, stock) if both else Spread.of([])
        target = part == "app" and authed and both
        rows.append(
            row(
                f"{letter} CPU per request, {who}, ms",
                Spread.of(stock).format(2) if both else "—",
                Spread.of(ours).format(2),
                gain.format(2, "×") if both else "",
                f"≤ {APP_CPU_TARGET}×" if target else "",
                met(gain.median, APP_CPU_TARGET, at_most=True) if target else "",
            )
        )

    def per_vcpu_second(values: list[float]) -> list[float]:
        return [1000 / v for v in values if v > 0]

    ours = per_vcpu_second(cpu["ours"]["app"])
    stock = per_vcpu_second(cpu["stock"]["app"]) if both else []
    rows.append(
        row(
            f"{letter} requests per app-vCPU-second",
            Spread.of(stock).format(digits) if both else "—",
            Spread.of(ours).format(digits),
            ratio(ours, stock).format(2, "×") if both else "",
        )
    )
    return rows


def row(label: str, stock: str, ours: str, gain: str = "", target: str = "", verdict: str = "") -> list[str]:
    return [label, stock, ours, gain, target, verdict]


def storm_rows(results: "Results") -> list[list[str]]:
    if not results.storm:
        return []
    rounds = results.storm

    def each(key: str, attribute: str) -> list[float]:
        return [getattr(r, attribute) for r in rounds[key]]

    def spread(attribute: str, digits: int = 1) -> tuple[str, str]:
        stock, ours = (Spread.of(each(key, attribute)).format(digits) for key in APPS)
        return stock, ours

    def per_round(key: str, top: str, bottom: str, scale: float = 1.0) -> Spread:
        pairs = zip(each(key, top), each(key, bottom), strict=True)
        return Spread.of([t / b * scale for t, b in pairs if b])

    slowdown = {key: per_round(key, "storm_p99", "idle_p99") for key in APPS}
    kept = {key: per_round(key, "logins_with_probe", "logins_alone", 100) for key in APPS}
    logins_gain = ratio(each("ours", "logins_with_probe"), each("stock", "logins_with_probe"))
    return [
        row("c. probe p99, idle, ms (`GET /users/me`, 50/s, one at a time)", *spread("idle_p99")),
        row("c. probe p99 while 4 clients log in, ms", *spread("storm_p99")),
        row(
            "c. probe p99, storm / idle",
            slowdown["stock"].format(1, "×"),
            slowdown["ours"].format(1, "×"),
            target="≤ 2× (this app)",
            verdict=met(slowdown["ours"].median, 2.0, at_most=True),
        ),
        row(
            "c. logins/s during the storm (probe running)",
            *spread("logins_with_probe"),
            logins_gain.format(2, "×"),
        ),
        row("c. logins/s, the same 4 clients without the probe", *spread("logins_alone")),
        row(
            "c. logins/s with the probe / without",
            kept["stock"].format(0, "%"),
            kept["ours"].format(0, "%"),
            target="≥ 85% (this app)",
            verdict=met(kept["ours"].median, 85.0),
        ),
    ]


def listing_rows(results: "Results") -> list[list[str]]:
    if not results.listing:
        return []
    summaries = {key: results.listing[key].summary() for key in APPS}
    rows = []
    for size in results.plan.list_sizes:
        rows.append(
            [f"d. `GET /task/?limit=20` (first page), {size:,} tasks, median / p90 ms"]
            + [ms(summaries[key]["first_page"], size) for key in APPS]
            + ["", "", ""]
        )
    deepest = max(results.plan.list_sizes)
    rows.append(
        [f"d. page at offset {deepest // 2:,} of {deepest:,} (`skip`), median / p90 ms"]
        + [ms(summaries[key]["offset_page"], deepest) for key in APPS]
        + ["", "", ""]
    )
    link = []
    for key in APPS:
        figures = results.listing[key]
        if figures.has_link and deepest in figures.hops_reached:
            link.append(
                f"{ms(summaries[key]['next_hop'], deepest)} (to task {figures.hops_reached[deepest]:,})"
            )
        else:
            link.append("no `Link` header")
    rows.append(
        [f"d. following `Link: rel=next`, {deepest:,} tasks, median / p90 ms per page", *link, "", "", ""]
    )
    return rows


def soak_rows(results: "Results") -> list[list[str]]:
    soak = results.soak
    if soak is None or len(soak.points) < 2:
        return []
    first = results.plan.soak_first
    growth = soak.growth_percent(first)
    return [
        row(
            f"e. worker RSS after the first {first:,} mixed requests, MiB",
            "—",
            f"{soak.rss_after(first) / 1024:.1f}",
        ),
        row(
            f"e. worker RSS after {soak.requests:,} mixed requests, MiB",
            "—",
            f"{soak.points[-1][1] / 1024:.1f}",
        ),
        row("e. RSS growth", "—", f"{growth:+.1f}%", target="≤ 10%", verdict=met(growth, 10.0, at_most=True)),
    ]


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(results: "Results") -> str:
    header = ["measure", "stock FastAPI Users", "this app", "this app / stock", "target", "met"]
    rows = throughput_rows(results) + storm_rows(results) + listing_rows(results) + soak_rows(results)
    return table(rows, header)


def timing_table(results: "Results") -> str:
    rows = [[label, f"{f['median']:.1f} ms", f"{f['p90']:.1f} ms"] for label, f in results.timing.items()]
    return table(rows, ["this app (f.)", "median", "p90"])


def machine_line(results: "Results") -> str:
    m = results.machine
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['kernel']}, Python {m['python']}; "
        f"{m['database']}; {m['wrk']}; code {m['code']}"
    )


def notes(results: "Results") -> list[str]:
    plan, found = results.plan, []
    kind = "quick (smoke check)" if results.quick else "full"
    found.append(
        f"{kind} run of {results.seconds / 60:.1f} minutes on {results.started:%Y-%m-%d %H:%M %Z}: "
        f"{plan.rounds} alternating rounds (stock, this app, ...); figures are the median round "
        f"(lowest–highest); wrk rounds of {plan.wrk_seconds:g} s; storm phases of "
        f"{plan.idle_seconds:g} s idle and {plan.storm_seconds:g} s of logins."
    )
    cores = results.machine.get("cores", "?")
    cpu = Spread.of(results.wrk_client_cpu)
    storm_cpu = [
        r.client_cpu_seconds / (r.idle_seconds + 2 * r.storm_seconds)
        for v in results.storm.values()
        for r in v
    ]
    found.append(
        f"Clients and servers share the machine's {cores} cores, SecantusDB included: wrk used "
        f"{cpu.median * 100:.0f}% of one core during a and b, the Python probe and login clients "
        f"{Spread.of(storm_cpu).median * 100:.0f}% during c."
    )
    load = results.other_load
    if load:
        found.append(
            f"Other programs on the machine used {load.get('before', 0):.0%} of its CPU just before the "
            f"run and {load.get('during', 0):.0%} during it"
            + (
                ": figures are lower and noisier than on a quiet machine."
                if max(load.values()) > 0.1
                else "."
            )
        )
    if results.wrk_failures:
        found.append(f"Requests that failed under wrk (non-2xx, timeouts): {results.wrk_failures}.")
    failures = {key: sum(r.failures for r in rounds) for key, rounds in results.storm.items()}
    if any(failures.values()):
        found.append(f"Failed requests during the login storms: {failures}.")
    soak = results.soak
    if soak is not None:
        rates = Spread.of(soak.rates[1:] or soak.rates)
        found.append(
            f"Soak: {soak.requests:,} requests in {soak.seconds:.0f} s, {rates.low:.0f}–{rates.high:.0f} "
            f"requests/s from chunk to chunk (first {soak.rates[0]:.0f}/s, last {soak.rates[-1]:.0f}/s), "
            f"with {soak.logins} logins and {soak.refreshes} refresh rotations; worker pid {soak.pid}; "
            f"SecantusDB restarted {soak.database_restarts} times between chunks (its writes slow "
            f"down until it restarts), the worker kept running. "
            f"Documents in its database at the end: "
            + ", ".join(f"{name} {count:,}" for name, count in sorted(soak.documents.items()))
            + "."
        )
    if soak is not None and (soak.failed or soak.auth_failures):
        found.append(
            f"Soak: {soak.failed} failed requests (by status: {soak.failures or 'none'}; the last: "
            f"`{soak.last_failure}`), {soak.auth_failures} refused logins or refreshes."
        )
    return found


def raw(results: "Results") -> dict[str, Any]:
    return {
        "started": results.started.isoformat(),
        "quick": results.quick,
        "seconds": results.seconds,
        "plan": asdict(results.plan),
        "machine": results.machine,
        "throughput": results.throughput,
        "cpu_per_request": results.cpu_per_request,
        "wrk_failures": results.wrk_failures,
        "storm": {
            key: [
                {
                    "idle_p99_ms": r.idle_p99,
                    "storm_p99_ms": r.storm_p99,
                    "logins_with_probe": r.logins_with_probe,
                    "logins_alone": r.logins_alone,
                    "failures": r.failures,
                }
                for r in rounds
            ]
            for key, rounds in results.storm.items()
        },
        "listing": {key: figures.summary() for key, figures in results.listing.items()},
        "soak": None
        if results.soak is None
        else {
            "pid": results.soak.pid,
            "points": results.soak.points,
            "rates": results.soak.rates,
            "failures": results.soak.failures,
            "documents": results.soak.documents,
            "database_restarts": results.soak.database_restarts,
        },
        "timing": results.timing,
        "other_load": results.other_load,
    }


def write(results: "Results", out: Path) -> tuple[str, Path]:
    """Write the dated report, its JSON and plots into `out`; return (Markdown table, report path)."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{results.started:%Y-%m-%d}" + ("-quick" if results.quick else "")
    images = plots.draw(results, out, stem)
    tables = [
        main_table(results) if results.throughput or results.storm or results.listing or results.soak else ""
    ]
    tables.append(timing_table(results) if results.timing else "")
    summary = "\n\n".join(t for t in tables if t)
    body = [
        f"# `make bench`, {results.started:%Y-%m-%d}",
        "",
        f"Machine: {machine_line(results)}.",
        "",
        f"Packages: {results.machine['packages']}.",
        "",
        summary,
        "",
        *[f"- {note}" for note in notes(results)],
        "",
        *[f"![{title}]({path.name})\n" for title, path in images],
    ]
    path = out / f"{stem}.md"
    path.write_text("\n".join(body))
    (out / f"{stem}.json").write_text(json.dumps(raw(results), indent=1, default=str))
    return f"Machine: {machine_line(results)}\n\n{summary}\n", path
