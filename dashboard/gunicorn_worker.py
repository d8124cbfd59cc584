"""The Procfile's gunicorn worker: gthread, except that SIGTERM closes the listening socket at once.

gunicorn's master closes its copy of the listening socket on SIGTERM, but a gthread worker only
stops polling its own copy and keeps it open while it finishes the requests in flight (an
explanation takes most of a second). Meanwhile the kernel still completes the handshakes of new
connections into the socket's backlog, and resets them all when the worker exits: requests a
router had sent were taken and lost. This worker accepts what is already queued and closes the
socket in the same step, so a connection after the signal is refused at once, which a router
can send elsewhere, and every connection taken is served (``tests/dashboard/test_restarts.py``).
"""

from __future__ import annotations

import select

from gunicorn.workers.gthread import ThreadWorker


class DrainingThreadWorker(ThreadWorker):
    def handle_exit(self, sig, frame) -> None:
        if self.alive:
            self.method_queue.defer(self.stop_listening)  # runs on the event loop, not in the signal handler
        super().handle_exit(sig, frame)

    def stop_listening(self) -> None:
        """Take every connection the kernel has queued, then close the listening sockets."""
        self.set_accept_enabled(False)
        for listener in self.sockets:
            while select.select([listener], [], [], 0)[0]:
                self.accept(listener)
            listener.close()
