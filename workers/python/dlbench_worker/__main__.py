"""`python -m dlbench_worker WORKERNAME`: takes the protocol streams, then serves requests on them.

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

WORKERS = ("jax", "synthetic", "torch")
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in WORKERS:
        given = f'"{argv[1]}"' if len(argv) == 2 else "no single worker name"
        print(
            f"dlbench_worker: error: {given} is not a worker; allowed: {', '.join(WORKERS)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    faulthandler.enable(file=sys.stderr)  # a native crash leaves its Python stack in the log
    worker = argv[1]
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
