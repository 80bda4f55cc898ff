"""Start llama.cpp's server (llama-cpp-python) on a model with the shape of one of dlbench's
decoders, written here from a seed, so nothing is downloaded. An experiment's [servers.NAME] runs it:

    [servers.llama-cpp]
    command = ["{serve_python}", "{serve_dir}/serve_llama_cpp.py", "--model", "{model}", "--seed", "{seed}",
               "--dir", "{scratch}", "--port", "{port}"]

It writes DIR/MODEL.gguf (make_tiny_gguf.write, the shape of dlbench_worker.models.llama's MODEL),
then replaces itself with `python -m llama_cpp.server`, so a signal to this process reaches the
server. One thread by default: the in-process engines it is compared with run on the same CPU.
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_tiny_gguf  # noqa: E402
from dlbench_worker.server import environment  # noqa: E402  (PYTHONPATH holds workers/python)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a dlbench decoder: llama-tiny, llama-125m, llama-1b")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", required=True, help="where the model file is written")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    shape = make_tiny_gguf.decoder_shape(a.model)
    path = Path(a.dir) / f"{a.model}.gguf"
    make_tiny_gguf.write(str(path), seed=a.seed, **shape)
    print(f"serve_llama_cpp: wrote {path} ({shape})")
    # What this process sees, for the repetition's record (the environment a worker's hello reports).
    print("dlbench-environment: " + json.dumps(environment()), flush=True)
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", a.model,
            "--host", a.host, "--port", str(a.port), "--n_ctx", str(shape["context"]), "--logits_all", "true",
            "--n_threads", str(a.threads), "--n_threads_batch", str(a.threads), "--interrupt_requests", "false"]
    os.execv(sys.executable, argv)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
