"""`python -m dlbench_worker WORKERNAME`: takes the protocol streams, then serves requests on them.

`python -m dlbench_worker WORKERNAME --capabilities` prints what the worker can run as one JSON line
on stdout and exits, without importing its framework (capabilities.py).

The first act, before anything that could print is imported, keeps the original stdout for replies
on a private descriptor and points fd 1 at stderr (docs/protocol.md, "Transport"): whatever a
framework prints afterwards, from Python or from C, lands in the cell's log, not in the protocol.
"""

import os
import sys

# Nothing may run before this: os.dup returns a non-inheritable descriptor, so subprocesses a
# framework starts (compile workers) cannot write on the reply stream either.
_REPLY_FD = os.dup(1)
os.dup2(2, 1)
sys.stdout.reconfigure(line_buffering=True)

import faulthandler  # noqa: E402 - after the descriptor swap, on purpose
import importlib  # noqa: E402
import json  # noqa: E402

from dlbench_worker.capabilities import WORKERS  # noqa: E402 - imports no framework

EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
CAPABILITIES_FLAG = "--capabilities"


def _usage(problem: str) -> int:
    print(f"dlbench_worker: error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    args = argv[1:]
    flags = args[1:]
    if len(args) not in (1, 2) or args[0] not in WORKERS:
        given = f'"{args[0]}"' if len(args) in (1, 2) else "no single worker name"
        return _usage(f"{given} is not a worker; allowed: {', '.join(WORKERS)}")
    if flags and flags != [CAPABILITIES_FLAG]:
        return _usage(f'"{flags[0]}" is not a flag; allowed: {CAPABILITIES_FLAG}')
    worker = args[0]
    if flags:
        line = json.dumps(WORKERS[worker].to_json(), separators=(",", ":")) + "\n"
        os.write(_REPLY_FD, line.encode())
        return 0
    faulthandler.enable(file=sys.stderr)  # a native crash leaves its Python stack in the log
    try:
        module = importlib.import_module(f"dlbench_worker.adapters.{worker}")
    except ImportError as e:
        print(f"dlbench_worker: error: cannot import the {worker} adapter: {e}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    from dlbench_worker.protocol import Channel
    from dlbench_worker.server import Server

    return Server(worker, module.create(), Channel(_REPLY_FD)).serve()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
