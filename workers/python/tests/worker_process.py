"""A worker subprocess driven as the controller drives it: real pipes, its own process group.

Replies are read with a deadline (select on the pipe), so a hung worker fails a test instead of
hanging it. stderr goes to a file: it is the worker's log, which some tests read.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

WORKER_ROOT = Path(__file__).resolve().parents[1]  # workers/python
REPO_ROOT = WORKER_ROOT.parents[1]
TRANSCRIPTS = REPO_ROOT / "tests" / "protocol"
DEFAULT_TIMEOUT_S = 30.0


class WorkerProcess:
    """One worker subprocess speaking the protocol on its stdin and stdout."""

    def __init__(self, name: str, log_path: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(WORKER_ROOT), env.get("PYTHONPATH")]))
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dlbench_worker", name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=log_path.parent,  # the test's tmp_path: a worker leaves nothing in the tree
            env=env,
            start_new_session=True,
        )
        self._buffer = b""

    def send(self, request: dict[str, Any] | str) -> None:
        line = request if isinstance(request, str) else json.dumps(request)
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def read_line(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> str | None:
        """The next line on the reply stream; None at its end; TimeoutError past the deadline."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], timeout_s)
            if not ready:
                raise TimeoutError(f"no reply within {timeout_s} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()

    def request(
        self, request: dict[str, Any] | str, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> dict[str, Any]:
        self.send(request)
        line = self.read_line(timeout_s)
        assert line is not None, f"worker closed its reply stream; log:\n{self.log()}"
        return json.loads(line)

    def wait(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> int:
        return self.proc.wait(timeout_s)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        self._log.close()


def load_request(options: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A valid synthetic load request; keyword arguments replace fields."""
    request = {
        "op": "load",
        "model": "synthetic",
        "batch": 1,
        "precision": "fp32",
        "device": "cpu",
        "mode": "inference",
        "layout": "default",
        "seed": 0,
        "options": {} if options is None else options,
    }
    request.update(fields)
    return request
