"""What the figures were measured on: the machine, the software and the code."""

import contextlib
import os
import platform
import resource
import subprocess
from importlib import metadata
from pathlib import Path

from benchmarks import wrk

REPO = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return 0.0


def run(args: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            args, cwd=REPO, capture_output=True, text=True, timeout=20, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )  # fmt: skip
        return done.stdout.strip() if done.returncode == 0 else ""
    return ""


def secantusdb_version() -> str:
    python = REPO / ".venv-db" / "bin" / "python"
    return run([str(python), "-c", "from importlib.metadata import version; print(version('secantusdb'))"])


def code_version() -> str:
    commit = run(["git", "rev-parse", "--short", "HEAD"]) or "unknown commit"
    changed = subprocess.run(
        ["git", "diff", "--quiet", "HEAD", "--"], cwd=REPO, capture_output=True, check=False, timeout=20,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    ).returncode  # fmt: skip
    return f"{commit} with uncommitted changes" if changed else commit


def describe() -> dict[str, str]:
    packages = ("fastapi", "fastapi-users", "beanie", "pymongo", "uvicorn", "pwdlib")
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "memory": f"{memory_gib():.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": ", ".join(f"{name} {metadata.version(name)}" for name in packages),
        "database": f"SecantusDB {secantusdb_version() or '?'} (on disk, one process)",
        "wrk": wrk.version(),
        "code": code_version(),
    }


def cpu_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and its reaped children (servers, database, wrk)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
