"""What every benchmark shares: the machine it ran on, the explainer warm-up wait, and ``benchmarks/results.md``.

Each benchmark writes one section of results.md, rewritten only by its own script, and
every section says which machine measured it. No benchmark imports another's functions:
what two of them need lives here (or, for tests too, in ``support/``).
"""

from __future__ import annotations

import json
import os
import platform
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from support.server import post

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = "# Serving benchmarks\n\nEach section is written by the command named under its title; rerun it to refresh the section.\n"


def section_pattern(title: str) -> re.Pattern:
    """``## title`` and its text up to the next section: group 1 is the text. The README's generator reads sections with it too."""
    return re.compile(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", re.S | re.M)


def write_section(title: str, command: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or add) the section ``## title`` of ``path``, keeping the others."""
    text = path.read_text() if path.exists() else HEADER
    section = f"## {title}\n\nWritten by `{command}`.\n\n{body.rstrip()}\n"
    pattern = section_pattern(title)
    text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text.rstrip() + "\n")


def publish(title: str, command: str, lines: list[str]) -> str:
    """Print a benchmark's report, headed by the machine, and store it as its section of ``results.md``; return it."""
    table = "\n".join([f"Machine: {machine()}.", "", *lines]) + "\n"
    print(table)
    write_section(title, command, table)
    return table


def machine() -> str:
    """The host in a line. A VM's model name can hide the generation ("AMD EPYC"), so the CPU family and model are added."""
    cpuinfo = Path("/proc/cpuinfo")
    fields: dict[str, str] = {}
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    cpu = fields.get("model name", platform.processor())
    if "cpu family" in fields:
        cpu += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def wait_for_warm_explainer(url: str, timeout: float = 120) -> None:
    """Until ``/api/v1/health`` says the worker's explainer warm-up (a background thread) is done."""
    deadline = time.perf_counter() + timeout
    while json.loads(urllib.request.urlopen(f"{url}/api/v1/health", timeout=10).read())["explainer"] == "warming up":
        if time.perf_counter() > deadline:
            raise RuntimeError("the explainer did not warm up")
        time.sleep(0.2)


@dataclass
class Uploads:
    """What concurrent clients recorded: each answer's milliseconds, each error, and the seconds they ran."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0


@contextmanager
def uploading(url: str, photos: list[bytes], clients: int) -> Iterator[Uploads]:
    """``clients`` threads posting ``photos`` in turn to ``url`` (each from its own offset) for as long as the block runs."""
    uploads, done = Uploads(), threading.Event()

    def client(offset: int) -> None:
        index = offset
        while not done.is_set():
            started = time.perf_counter()
            try:
                post(url, photos[index % len(photos)])
                uploads.latencies.append(1000 * (time.perf_counter() - started))
            except OSError as error:  # HTTPError and URLError are OSErrors
                uploads.errors.append(repr(error))
            index += 1

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    try:
        yield uploads
    finally:
        done.set()
        for thread in threads:
            thread.join()
        uploads.elapsed = time.perf_counter() - began
