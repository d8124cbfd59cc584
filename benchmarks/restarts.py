"""Restarts under load through the Procfile's server: SIGTERM's drain and SIGKILL's respawn, timed.

Usage: ``python -m benchmarks.restarts [--clients 6]`` (run by ``make soak`` after the soak)

SIGTERM: clients send portraits, an explanation is in flight, the master gets SIGTERM; reports
the time to the server's exit and how every request ended (answered, refused, or taken and
lost). SIGKILL: clients send portraits and explanations, the worker is killed; reports the time
to the next complete 200 and the requests in flight that failed. Writes ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse

from benchmarks.common import publish
from support.clients import sigkill_under_load, sigterm_under_load
from support.photos import PORTRAIT, benchmark_photos
from support.server import post, production_server


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.restarts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=6)
    args = parser.parse_args(argv)
    photo = benchmark_photos()[PORTRAIT]
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photo)
        drain = sigterm_under_load(server, photo, args.clients)
    with production_server() as server:
        post(f"{server.url}/api/v1/predict", photo)
        respawn = sigkill_under_load(server, photo, args.clients)
    lines = [
        f"{args.clients} clients, each request on its own connection, against the Procfile's server on loopback.",
        "",
        f"- SIGTERM: the server exited {drain.exited_s:.1f} s after the signal; requests answered {len(drain.outcomes.answered)}, "
        f"refused (never taken) {len(drain.outcomes.refused)}, taken and lost {len(drain.outcomes.lost)}; "
        f"the explanation in flight at the signal: {'answered' if drain.explained.answered else 'lost'}",
        f"- SIGKILL of the worker: the next complete 200 came {respawn.next_200_s:.2f} s after the kill; requests in flight that failed "
        f"with a closed connection: {len(respawn.outcomes.lost)}; requests that hung: {'some' if respawn.hung else 'none'}",
    ]
    return publish("Restarts", "python -m benchmarks.restarts (make soak)", lines)


if __name__ == "__main__":
    main()
