"""Child servers that are owned: whoever starts one stops it, on every exit path, with everything it started.

A child runs in a process group of its own (`start_new_session`), so stopping it signals the whole group: vLLM's
engine processes and Chroma's workers go with their parent. On Linux the child also asks the kernel for SIGTERM
when its parent dies (`PR_SET_PDEATHSIG`), so even a SIGKILL of Encore does not leave a server running.

    with Child.start([python, "-m", "vllm.entrypoints.openai.api_server", ...], env) as server:
        server.wait()                     # Ctrl-C, SIGTERM and SIGHUP are forwarded to the group
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import IO

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class Child:
    """A server process and its whole process group."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.pgid = process.pid  # the leader of its own session and group

    @classmethod
    def start(cls, args: Sequence[str], env: dict[str, str] | None = None, stdout: IO | int | None = None,
              stderr: IO | int | None = None) -> Child:
        process = subprocess.Popen(list(args), env=env, stdout=stdout, stderr=stderr, start_new_session=True,
                                   preexec_fn=_die_with_parent)
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def signal(self, number: int) -> None:
        """Send `number` to every process of the group (nothing if it is gone already)."""
        try:
            os.killpg(self.pgid, number)
        except (ProcessLookupError, PermissionError):
            pass

    def alive(self) -> list[int]:
        """The pids still in the group (Linux: read from /proc)."""
        return group_members(self.pgid)

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM to the group, then SIGKILL to whatever is left after `grace` seconds; reaps the leader."""
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            self.process.poll()
            if not self.alive():
                break
            time.sleep(0.1)
        else:
            self.signal(signal.SIGKILL)
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def wait(self, grace: float = 20.0) -> int:
        """Wait for the server to end; SIGTERM, SIGINT and SIGHUP to us stop the group within `grace` seconds.
        Returns its exit status (130 after Ctrl-C, 143 after SIGTERM, as a shell reports them)."""
        received: list[int] = []

        def forward(number: int, _frame) -> None:
            received.append(number)
            if len(received) == 1:  # a second signal while stopping must not cut the stop short
                raise _Stop

        previous = {n: signal.signal(n, forward) for n in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            return self.process.wait()
        except _Stop:
            self.stop(grace)
            return 128 + received[0]
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            if self.process.poll() is None or self.alive():
                self.stop(grace)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None or self.alive():
            self.stop()


class _Stop(Exception):
    pass


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes whose process group is `pgid`."""
    from pathlib import Path

    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members
