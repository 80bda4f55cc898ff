"""Weights for the cross-framework checks (test_models.py, test_weights.py), made with torch.

At their initial values (BN mean 0, var 1, scale 1, biases 0) a swapped mean and var, a swapped
scale and bias or a wrong eps changes no output, so a comparison of torch and Flax logits would
pass with those bugs in the converter. These helpers move every such tensor off its first value.
"""

import numpy as np
import torch

from dlbench_worker.models import torch_models


def randomize_norms_and_biases(model: torch.nn.Module, seed: int) -> None:
    """Moves norm statistics, scales, shifts, biases and the class token off their first values."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(t: torch.Tensor, low: float, high: float) -> None:
        t.copy_(low + (high - low) * torch.rand(t.shape, generator=gen))

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(
                    0.1 * torch.randn(module.running_mean.shape, generator=gen)
                )
                uniform(module.running_var, 0.2, 1.0)  # var near eps would make a wrong eps visible
            if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                uniform(module.weight, 0.4, 1.0)
        for name, param in model.named_parameters():
            if name.endswith(("bias", "class_token")):
                param.copy_(0.1 * torch.randn(param.shape, generator=gen))


def canonical_weights(name: str, seed: int) -> dict[str, np.ndarray]:
    """torchvision's `name` drawn from `seed`, norms and biases randomized, as a canonical state
    dict (float32 numpy, no num_batches_tracked)."""
    model = torch_models.build(name, seed)
    randomize_norms_and_biases(model, seed=seed + 2)
    return {k: v.numpy().copy() for k, v in torch_models.canonical_state(model).items()}
