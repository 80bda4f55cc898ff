"""One adapter per framework: `python -m dlbench_worker NAME` calls `adapters.NAME.create()`."""
