"""torchvision models with random weights from a seed, in eval mode.

Facts that shaped it (torchvision 0.26 sources, read 2026-11): every constructor here initialises
its own weights when given weights=None, drawing from torch's global generator, so seeding that
generator right before the call makes the weights a function of the seed. ViT-B/16 initialises its
classification head to zeros (VisionTransformer.__init__), which makes its logits 0 for every input
and every seed; we redraw that one layer from the seed (normal, std 0.02) so outputs depend on
weights and input and can be compared between frameworks. Its cost and its parameter count are
unchanged.

A model can also take its weights from a canonical state dict (docs/protocol.md: torchvision's names
and shapes without `num_batches_tracked`, a training counter that inference never reads). It is
then built on the meta device, so nothing is drawn only to be overwritten, and the given tensors are
assigned in place of the meta ones.
"""

from collections.abc import Mapping

import torch
import torchvision

from dlbench_worker.models import MODELS, NUM_CLASSES

_SKIPPED_SUFFIX = "num_batches_tracked"


def build(name: str, seed: int) -> torch.nn.Module:
    """torchvision's `name` with weights drawn from `seed`, in eval mode, on the CPU, fp32."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    constructor = getattr(torchvision.models, name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = constructor(weights=None, num_classes=NUM_CLASSES)
        if name == "vit_b_16":
            _redraw_zero_head(model)
    return model.eval()


def build_meta(name: str) -> torch.nn.Module:
    """`name` on the meta device: shapes only, nothing drawn or allocated."""
    with torch.device("meta"):
        return build(name, seed=0)


def canonical_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict in the canonical layout: every tensor but num_batches_tracked."""
    return {
        key: value for key, value in model.state_dict().items() if not key.endswith(_SKIPPED_SUFFIX)
    }


def load_canonical(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """Assigns a checked canonical state dict (CPU tensors, names and shapes of `model`'s, as
    _canonical.check_weights makes sure) to a model from build_meta; returns it in eval mode."""
    full = dict(state)
    for key in model.state_dict():
        if key.endswith(_SKIPPED_SUFFIX):
            full[key] = torch.zeros((), dtype=torch.long)
    model.load_state_dict(full, strict=True, assign=True)
    return model.eval()


def _redraw_zero_head(model: torch.nn.Module) -> None:
    """Replaces ViT's all-zero head with small random weights (see the file's docstring)."""
    head = model.heads.head
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.normal_(head.bias, std=0.02)


def parameter_count(model: torch.nn.Module) -> int:
    """Trainable parameters; batch-norm running statistics are buffers and so are excluded."""
    return sum(p.numel() for p in model.parameters())
