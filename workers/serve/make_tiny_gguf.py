"""Write a tiny Llama-architecture model in GGUF, for llama.cpp's server in the tests: random
weights from a seed and a made-up vocabulary, so nothing is downloaded.

    python make_tiny_gguf.py OUT.gguf [--seed N] [--layers 2] [--hidden 64] [--vocab 512]
    python make_tiny_gguf.py OUT.gguf --like llama-tiny    # the shape of one of dlbench's decoders

The vocabulary is llama.cpp's SentencePiece kind: <unk>, <s>, </s>, the 256 byte tokens
(<0x00>..<0xFF>, for byte fallback), then ASCII words "▁w259", "▁w260", ... up to --vocab. Greedy
decoding emits only the words (see the output weights below), so the output is whole words and a
streamed chunk never holds a partial UTF-8 sequence: with byte tokens, llama-cpp-python 0.3.36 was
seen to hold bytes back and to generate past max_tokens (8 tokens for max_tokens = 6).
The words that dlbench's load generator puts in text prompts are tokens of their own, so a text
prompt of N words is N tokens, as long as the token-id prompt an in-process engine gets.
The weights are random: it generates nonsense at the speed of a model of its shape, which is what
a serving benchmark needs. With --like it has the shape of that in-process decoder (layers, widths,
heads, vocabulary, positions), not its weights.
"""

import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:  # pragma: no cover - the serving environment installs it
    sys.exit("make_tiny_gguf.py: the gguf package is missing (scripts/setup.sh installs it in .venv-serve)")


# The words of dlbench's text prompts (src/serve/client.cc), each one token here.
PROMPT_WORDS = ["the", "model", "reads", "a", "long", "prompt", "and", "writes", "tokens", "one", "by",
                "while", "client", "keeps", "time"]


def decoder_shape(name: str) -> dict:
    """The shape of one of dlbench's in-process decoders (dlbench_worker.models.llama)."""
    from dlbench_worker.models import llama  # PYTHONPATH holds workers/python

    if name not in llama.CONFIGS:
        sys.exit(f"make_tiny_gguf.py: --like {name}: not a dlbench decoder; allowed: {', '.join(llama.CONFIGS)}")
    c = llama.CONFIGS[name]
    return {"layers": c.num_hidden_layers, "hidden": c.hidden_size, "heads": c.num_attention_heads,
            "kv_heads": c.num_key_value_heads, "ffn": c.intermediate_size, "vocab": c.vocab_size,
            "context": c.max_position_embeddings}


def write(out: str, *, seed: int, layers: int, hidden: int, heads: int, kv_heads: int, ffn: int, vocab: int,
          context: int) -> None:
    if vocab < 300 or hidden % heads or heads % kv_heads:
        raise ValueError("need vocab >= 300, hidden divisible by heads, heads by kv_heads")
    rng = np.random.default_rng(seed)
    head_dim = hidden // heads
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("dlbench-tiny-llama")
    w.add_context_length(context)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
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
    # Each prompt word with every prefix on its way ("▁t", "▁th", "▁the"): llama.cpp's SentencePiece
    # tokenizer merges neighbouring pieces only into pieces the vocabulary has.
    for word in PROMPT_WORDS:
        for end in range(1, len(word) + 1):
            piece = f"\u2581{word[:end]}".encode()
            if piece not in tokens:
                tokens.append(piece)
                scores.append(-float(len(tokens)))
                types.append(gguf.TokenType.NORMAL)
    i = len(tokens)
    while len(tokens) < vocab:
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

    t("token_embd.weight", vocab, hidden)
    for layer in range(layers):
        p = f"blk.{layer}."
        w.add_tensor(p + "attn_norm.weight", np.ones(hidden, np.float32))
        t(p + "attn_q.weight", hidden, hidden)
        t(p + "attn_k.weight", kv_heads * head_dim, hidden)
        t(p + "attn_v.weight", kv_heads * head_dim, hidden)
        t(p + "attn_output.weight", hidden, hidden)
        w.add_tensor(p + "ffn_norm.weight", np.ones(hidden, np.float32))
        t(p + "ffn_gate.weight", ffn, hidden)
        t(p + "ffn_up.weight", ffn, hidden)
        t(p + "ffn_down.weight", hidden, ffn)
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    # The control and byte tokens get zero output rows, so their logit is exactly 0 while the word
    # tokens' logits are random around 0: greedy decoding never picks one of them (all words below
    # 0 has probability 2^-(vocab - 259)). Every generated token is then a whole word, and a server
    # cannot hold one back as an incomplete UTF-8 sequence.
    out = (rng.standard_normal((vocab, hidden)) * 0.02).astype(np.float32)
    out[:259] = 0
    w.add_tensor("output.weight", out)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


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
    ap.add_argument("--like", help="take every shape argument from this dlbench decoder (llama-tiny, ...)")
    a = ap.parse_args()
    if a.like:
        shape = decoder_shape(a.like)
        a.layers, a.hidden, a.heads, a.kv_heads = shape["layers"], shape["hidden"], shape["heads"], shape["kv_heads"]
        a.ffn, a.vocab, a.context = shape["ffn"], shape["vocab"], shape["context"]
    if a.vocab < 300 or a.hidden % a.heads or a.heads % a.kv_heads:
        ap.error("need --vocab >= 300, --hidden divisible by --heads, --heads by --kv-heads")

    write(a.out, seed=a.seed, layers=a.layers, hidden=a.hidden, heads=a.heads, kv_heads=a.kv_heads,
          ffn=a.ffn, vocab=a.vocab, context=a.context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
