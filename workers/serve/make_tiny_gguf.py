"""Write a tiny Llama-architecture model in GGUF, for llama.cpp's server in the tests: random
weights from a seed and a made-up vocabulary, so nothing is downloaded.

    python make_tiny_gguf.py OUT.gguf [--seed N] [--layers 2] [--hidden 64] [--vocab 512]

The vocabulary is llama.cpp's SentencePiece kind: <unk>, <s>, </s>, the 256 byte tokens
(<0x00>..<0xFF>, for byte fallback), then ASCII words "▁w259", "▁w260", ... up to --vocab. Greedy
decoding emits only the words (see the output weights below), so the output is whole words and a
streamed chunk never holds a partial UTF-8 sequence: with byte tokens, llama-cpp-python 0.3.36 was
seen to hold bytes back and to generate past max_tokens (8 tokens for max_tokens = 6).
The weights are random: it generates nonsense at the speed of a model of its shape, which is what
a serving benchmark needs. It is not the in-process llama-tiny model (the weights differ).
"""

import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - the serving environment installs it
    sys.exit("make_tiny_gguf.py: the gguf package is missing (scripts/setup.sh installs it in .venv-serve)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ffn", type=int, default=128)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--context", type=int, default=4096)
    a = ap.parse_args()
    if a.vocab < 300 or a.hidden % a.heads or a.heads % a.kv_heads:
        ap.error("need --vocab >= 300, --hidden divisible by --heads, --heads by --kv-heads")

    rng = np.random.default_rng(a.seed)
    head_dim = a.hidden // a.heads
    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name("dlbench-tiny-llama")
    w.add_context_length(a.context)
    w.add_embedding_length(a.hidden)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.ffn)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens, scores, types = [b"<unk>", b"<s>", b"</s>"], [0.0, 0.0, 0.0], [
        gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>".encode())
        scores.append(0.0)
        types.append(gguf.TokenType.BYTE)
    i = len(tokens)
    while len(tokens) < a.vocab:
        tokens.append(f"\u2581w{i}".encode())
        scores.append(-float(i))
        types.append(gguf.TokenType.NORMAL)
        i += 1
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)

    def t(name, *shape, scale=0.02):
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", a.vocab, a.hidden)
    for layer in range(a.layers):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_norm.weight", np.ones(a.hidden, np.float32))
        t(p + "attn_q.weight", a.hidden, a.hidden)
        t(p + "attn_k.weight", a.kv_heads * head_dim, a.hidden)
        t(p + "attn_v.weight", a.kv_heads * head_dim, a.hidden)
        t(p + "attn_output.weight", a.hidden, a.hidden)
        w.add_tensor(p + "ffn_norm.weight", np.ones(a.hidden, np.float32))
        t(p + "ffn_gate.weight", a.ffn, a.hidden)
        t(p + "ffn_up.weight", a.ffn, a.hidden)
        t(p + "ffn_down.weight", a.hidden, a.ffn)
    w.add_tensor("output_norm.weight", np.ones(a.hidden, np.float32))
    # The control and byte tokens get zero output rows, so their logit is exactly 0 while the ~250
    # word tokens' logits are random around 0: greedy decoding never picks one of them (all words
    # below 0 has probability 2^-250). Every generated token is then a whole word, and a server
    # cannot hold one back as an incomplete UTF-8 sequence.
    out = (rng.standard_normal((a.vocab, a.hidden)) * 0.02).astype(np.float32)
    out[:259] = 0
    w.add_tensor("output.weight", out)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
