"""The five benchmark models, shared by every framework adapter.

Each framework builds the same architecture (torchvision's, layer for layer): equal parameter
counts, equal FLOPs by one counting rule (flops.py) and weights convertible between them
(convert.py), so that outputs can be compared number for number (docs/models.md). This module names
them only: it imports neither torch nor jax, so the protocol tests and the synthetic worker run
without either framework installed.
"""

MODELS: tuple[str, ...] = (
    "resnet18",
    "resnet50",
    "vit_b_16",
    "mobilenet_v3_small",
    "efficientnet_b0",
)
IMAGE_SIZE = 224
NUM_CLASSES = 1000

LLAMA_MODELS: tuple[str, ...] = ("llama-tiny", "llama-125m", "llama-1b")
"""The decoders of the generation workload (llama.py holds their configurations)."""
LLAMA_POSITIONS: dict[str, int] = {"llama-tiny": 2048, "llama-125m": 2048, "llama-1b": 2048}
"""Each decoder's positions (max_position_embeddings): a prompt and its new tokens must fit."""
