"""The torch worker's training step (docs/protocol.md, `load` with mode "training").

Facts that shaped it (torch 2.11 sources and docs, read 2026-11):
- The model is in train mode: BatchNorm normalises with the batch's statistics and updates its
  running ones (momentum 0.1, the running variance from the unbiased batch variance). Dropout and
  torchvision's StochasticDepth are kept in eval mode, where both return their input unchanged, so
  they are off as in the Flax models (which have none); MultiheadAttention's own dropout is 0 in
  torchvision's ViT, which `dropout_state` checks.
- bf16 is mixed precision: fp32 parameters and optimizer, the forward and the loss under
  torch.autocast(bfloat16). Autocast runs convolutions and matmuls in bf16 and keeps BatchNorm's
  running statistics in fp32; the logits are cast to fp32 before the cross-entropy, so the loss is
  computed in fp32 whatever autocast's op lists hold.
- SGD: weight_decay adds wd * p to the gradient before momentum; the momentum buffer starts as the
  first gradient (dampening 0). AdamW: p *= 1 - lr * wd, then Adam with bias correction and eps
  added after the square root (torch/optim/sgd.py and adam.py, _single_tensor_*).
- optimizer.zero_grad(set_to_none=True) right after the update, so no gradient is held between
  steps: the peak memory is one step's, as in jax, whose gradients live inside the compiled step.
- Optimizer.state is empty until the first step() and holds per parameter: SGD with momentum a
  `momentum_buffer`; AdamW `exp_avg`, `exp_avg_sq` and a scalar `step` tensor.
"""

import contextlib
from typing import Any

import torch
import torchvision

from dlbench_worker.protocol import AdamWOptimizer, Optimizer, SgdOptimizer

_DROPOUTS = (torch.nn.Dropout, torchvision.ops.StochasticDepth)


def make_optimizer(model: torch.nn.Module, spec: Optimizer) -> torch.optim.Optimizer:
    """The torch optimizer of the request, every value given (the worker has no defaults)."""
    params = model.parameters()
    if isinstance(spec, SgdOptimizer):
        return torch.optim.SGD(
            params,
            lr=spec.lr,
            momentum=spec.momentum,
            nesterov=spec.nesterov,
            weight_decay=spec.weight_decay,
        )
    assert isinstance(spec, AdamWOptimizer)
    return torch.optim.AdamW(
        params,
        lr=spec.lr,
        betas=(spec.beta1, spec.beta2),
        eps=spec.eps,
        weight_decay=spec.weight_decay,
    )


def train_mode(model: torch.nn.Module) -> None:
    """Train mode with dropout off: see the module docstring."""
    model.train()
    model.requires_grad_(True)
    for module in model.modules():
        if isinstance(module, _DROPOUTS):
            module.eval()


def dropout_state(model: torch.nn.Module) -> str:
    """ "off" when no dropout can fire: every Dropout and StochasticDepth in eval mode or at p 0,
    and every MultiheadAttention's dropout 0; else "on"."""
    for module in model.modules():
        if isinstance(module, _DROPOUTS) and module.training and module.p > 0:
            return "on"
        if isinstance(module, torch.nn.MultiheadAttention) and module.dropout > 0:
            return "on"
    return "off"


def batch_norm_state(model: torch.nn.Module) -> str:
    """ "train" when every BatchNorm is in train mode, "none" for a model without one."""
    norms = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)
    modes = {m.training for m in model.modules() if isinstance(m, norms)}
    if not modes:
        return "none"
    return "train" if modes == {True} else "eval" if modes == {False} else "mixed"


class Trainer:
    """One training step of `fn` (the model or its torch.compile wrapper) on fixed labels."""

    def __init__(
        self,
        model: torch.nn.Module,
        spec: Optimizer,
        labels: torch.Tensor,
        autocast_device: str,
        bf16: bool,
    ) -> None:
        train_mode(model)
        self.model = model
        self.fn: Any = model
        self.labels = labels
        self.optimizer = make_optimizer(model, spec)
        self._autocast_device = autocast_device
        self._bf16 = bf16
        self._initial: dict[str, torch.Tensor] | None = None

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """Forward, mean cross-entropy, backward, update; returns the loss (fp32, detached)."""
        with self._autocast():
            loss = torch.nn.functional.cross_entropy(self.fn(x).float(), self.labels)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self._bf16:
            return contextlib.nullcontext()
        return torch.autocast(self._autocast_device, dtype=torch.bfloat16)

    def keep_initial(self) -> None:
        """Copies the weights and buffers aside on the host (so no device peak counts them)."""
        self._initial = {
            key: value.detach().to("cpu", copy=True)
            for key, value in self.model.state_dict().items()
        }

    def restore_initial(self) -> None:
        """Puts back the weights and buffers kept by keep_initial, in place (a compiled model keeps
        its tensors), and empties the optimizer's state, so the next step is a first step."""
        assert self._initial is not None
        with torch.no_grad():
            for key, value in self.model.state_dict().items():
                value.copy_(self._initial[key])
        self._initial = None
        self.optimizer.state.clear()

    def parameter_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    def optimizer_state_bytes(self) -> int:
        """Bytes of every tensor in optimizer.state (empty before the first step)."""
        return sum(
            value.numel() * value.element_size()
            for state in self.optimizer.state.values()
            for value in state.values()
            if isinstance(value, torch.Tensor)
        )

    def optimizer_settings(self, name: str) -> dict[str, Any]:
        """The optimizer as torch holds it: its class and param_groups[0] less the parameters."""
        group = self.optimizer.param_groups[0]
        values = {key: _json_value(value) for key, value in group.items() if key != "params"}
        return {"name": name, "class": type(self.optimizer).__name__, **values}


def _json_value(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value
