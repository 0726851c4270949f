"""Running wrk: one process per measurement, its figures read from the JSON line our Lua prints."""

import json
import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPORT_SCRIPT = HERE / "wrk_report.lua"
MIXED_SCRIPT = HERE / "wrk_mixed.lua"
REFRESH_SCRIPT = HERE / "wrk_refresh.lua"
LOGIN_SCRIPT = HERE / "wrk_login.lua"
GRACE_SECONDS = 30.0


@dataclass
class WrkRun:
    figures: dict[str, Any]
    client_cpu_seconds: float  # what wrk itself used: it shares the two cores with the servers

    @property
    def requests(self) -> int:
        return int(self.figures["requests"])

    @property
    def seconds(self) -> float:
        return float(self.figures["duration_us"]) / 1e6

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        errors = self.figures["errors"]
        return int(sum(errors.values()))


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), `brew install wrk` (macOS); "
            "`make bench` installs it when run as root"
        )
    return found


def version() -> str:
    completed = subprocess.run([require_wrk(), "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (completed.stdout or completed.stderr).splitlines()
    return first[0].split(" Copyright")[0].strip() if first else "wrk"


def run(
    url: str,
    *,
    seconds: float,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path = REPORT_SCRIPT,
    env: dict[str, str] | None = None,
    quota_file: Path | None = None,
) -> WrkRun:
    """Load `url` for `seconds` (or until the script writes `quota_file`) and return the figures."""
    args = [require_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    args += ["-s", str(script), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    try:
        if quota_file is not None:
            deadline = time.monotonic() + seconds + GRACE_SECONDS
            while process.poll() is None and not quota_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # wrk prints its summary and runs done()
        out, err = process.communicate(timeout=seconds + GRACE_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return WrkRun(json.loads(line.removeprefix("BENCH_JSON ")), cpu)
    raise RuntimeError(f"wrk gave no figures (exit {process.returncode}):\n{out}\n{err}")
