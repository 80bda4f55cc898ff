"""dlbench's Python worker: runs one framework behind the worker protocol (docs/protocol.md).

Start it as `python -m dlbench_worker WORKERNAME` (torch, jax or synthetic); with `--capabilities`
after the name it prints what that worker can run and exits (capabilities.py). Nothing here imports a
framework; each adapter imports its own, so the protocol and its tests run with the stdlib alone.
"""

PROTOCOL_VERSION = 1
