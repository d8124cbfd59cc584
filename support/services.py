"""The servers a multi-dyno deploy adds, run for real on loopback: Redis, the Procfile's Celery worker, and a router.

Debian's ``redis-server`` (``apt-get install redis-server``; ``.ci/run`` installs it) runs
without persistence, in a folder of its own, as the app's jobs want it. ``Router`` stands for
the platform's HTTP router: it forwards each request to one of several web processes by a
rule the test chooses, so a job started on one can be polled on another.
"""

from __future__ import annotations

import http.client
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from support import ROOT
from support.server import free_port, procfile_line, wait_for_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_available() -> bool:
    return os.path.exists(REDIS_SERVER)


class RedisServer:
    """A ``redis-server`` on a free loopback port that a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="face2data-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.folder]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


@contextmanager
def celery_worker(environment: dict[str, str], bin_dir: str | None = None) -> Iterator[subprocess.Popen]:
    """The Procfile's ``worker`` process, with the venv of ``bin_dir`` (default: this interpreter's); yields once it says it is ready."""
    path = f"{bin_dir or os.path.dirname(sys.executable)}:{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "LOG_LEVEL": "WARNING", **environment}
    process = subprocess.Popen(shlex.split(procfile_line("worker")), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    ready = threading.Event()

    def watch() -> None:
        for line in process.stderr:
            if " ready." in line:
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the Celery worker did not start")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


class Router:
    """A loopback HTTP router: ``choose(method, path, body)`` names the backend (an index into ``backends``) of each request."""

    def __init__(self, backends: list[str], choose: Callable[[str, str, bytes], int]) -> None:
        self.backends, self.choose = backends, choose
        self.counts = [0] * len(backends)
        router = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                index = router.choose(self.command, self.path, body)
                router.counts[index] += 1
                target = urlsplit(router.backends[index])
                connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
                headers = {key: value for key, value in self.headers.items() if key.lower() not in ("host", "connection")}
                try:
                    connection.request(self.command, self.path, body=body or None, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                except OSError:
                    self.send_error(502, "backend unreachable")
                    return
                finally:
                    connection.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward  # noqa: N815  (http.server names its handlers so)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Router:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
