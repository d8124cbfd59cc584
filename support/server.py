"""The Procfile's production server (gunicorn) on a free loopback port, as the benchmarks measure it."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import psutil

from support import ROOT


def high_water_mark(process: psutil.Process) -> int:
    """The kernel's own peak RSS of ``process`` (Linux VmHWM), in bytes.

    Exact, where reading the RSS now and then can miss a spike that lasts tens of milliseconds,
    such as decoding a 12 MP photo.
    """
    status = Path(f"/proc/{process.pid}/status").read_text()
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:"))


def _stat_fields(stat: Path) -> list[str]:
    """The fields of a Linux ``stat`` file after the command name (which may hold spaces): ``[0]`` is field 3, the state."""
    return stat.read_text().rsplit(")", 1)[1].split()


def minor_faults(process: psutil.Process) -> int:
    """The process's minor page faults so far (field 10 of Linux's /proc/PID/stat): pages the kernel had to map in."""
    return int(_stat_fields(Path(f"/proc/{process.pid}/stat"))[7])


def thread_times(process: psutil.Process) -> dict[int, tuple[int, int]]:
    """Each thread of ``process`` by id: its niceness and the CPU time it has used, in clock ticks (Linux /proc/PID/task)."""
    threads = {}
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        fields = _stat_fields(task / "stat")
        threads[int(task.name)] = (int(fields[16]), int(fields[11]) + int(fields[12]))  # fields 19 (nice), 14 and 15 (user and system time)
    return threads


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    """Until something listens on loopback ``port``; raise if ``process`` exits first or ``timeout`` passes."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.01)


def procfile_line(kind: str = "web", root: Path = ROOT) -> str:
    """The Procfile's command for process type ``kind`` (``web``, ``worker``), as written there."""
    line = next(line for line in (root / "Procfile").read_text().splitlines() if line.startswith(f"{kind}:"))
    return line.removeprefix(f"{kind}:").strip()


def web_command(port: int, root: Path = ROOT) -> list[str]:
    """The Procfile's ``web:`` command with ``$PORT`` filled in."""
    return shlex.split(procfile_line("web", root).replace("$PORT", str(port)))


def post(url: str, data: bytes, content_type: str = "image/jpeg", timeout: float = 120) -> bytes:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def post_status(url: str, data: bytes, timeout: float = 120) -> tuple[int | str, Message | None]:
    """How a POST ended: its HTTP status and headers, or ``"no answer (<error>)"`` and None when none came."""
    try:
        post(url, data, timeout=timeout)
    except urllib.error.HTTPError as error:
        return error.code, error.headers
    except OSError as error:
        return f"no answer ({type(error).__name__})", None
    return 200, None


def resources(server: RunningServer) -> tuple[float, int, int]:
    """The server's PSS in MiB (shared pages once, as a container counts them), its threads and open files, master and workers together."""
    processes = server.processes()
    return (
        sum(process.memory_full_info().pss for process in processes) / 2**20,
        sum(process.num_threads() for process in processes),
        sum(process.num_fds() for process in processes),
    )


@dataclass
class RunningServer:
    url: str
    """Base URL, e.g. ``http://127.0.0.1:41234``."""
    process: subprocess.Popen
    started: float
    """``time.perf_counter()`` just before the process was started."""

    def processes(self) -> list[psutil.Process]:
        """gunicorn's master first, then every process under it."""
        master = psutil.Process(self.process.pid)
        return [master, *master.children(recursive=True)]

    def worker(self) -> psutil.Process:
        """The one worker that the Procfile's settings start."""
        (worker,) = psutil.Process(self.process.pid).children()
        return worker


@contextmanager
def production_server(environment: dict[str, str] | None = None, bin_dir: str | None = None, root: Path = ROOT) -> Iterator[RunningServer]:
    """Start the Procfile's ``web`` command in ``root`` (a checkout) and yield once it listens; stop it on exit.

    ``bin_dir`` is where its ``gunicorn`` is found (default: beside this interpreter, so the
    venv's, activated or not).
    """
    port = free_port()
    path = f"{bin_dir or os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    env = {**os.environ, "PORT": str(port), "LOG_LEVEL": "WARNING", "PATH": path, **(environment or {})}
    started = time.perf_counter()
    process = subprocess.Popen(web_command(port, root), cwd=root, env=env)
    try:
        wait_for_port(port, process, timeout=120)
        yield RunningServer(f"http://127.0.0.1:{port}", process, started)
    finally:
        process.terminate()
        process.wait(timeout=30)
