"""FLOPs by one rule for every framework: 2 x multiply-accumulates of convolutions and matmuls.

Dense layers and attention's q k^T and (softmax) v count; biases, elementwise ops, normalisation,
pooling and softmax do not. A model's FLOPs for batch B divided by B is its flops_per_sample.

Training: a step counts 3 x the forward (training_flops). The backward of every convolution and
matrix product is two products of the forward's size, the gradient with respect to its input and
the one with respect to its weights, so forward + backward ~ 3 x forward; the optimizer's update is
elementwise and does not count. It is a convention, not a count of the backward graph: the
frameworks skip the first layer's input gradient, which nobody needs, so the true figure is a
little under 3 x (resnet18's stem convolution, whose input gradient is skipped, is 6.5% of its
forward: 2 x 112 x 112 x 64 x 3 x 7 x 7 of 3,628,146,688 FLOPs).

Facts that shaped it (torch 2.11, jax 0.11.2, read and measured 2026-11):
- torch.utils.flop_counter.FlopCounterMode counts aten convolution, mm, addmm, bmm, baddbmm and the
  CUDA/flash SDPA kernels at 2 x MAC, bias adds excluded. It misses two things in torchvision's ViT:
  nn.MultiheadAttention's inference fast path (aten._native_multi_head_attention, taken under
  no_grad) hides in_proj, out_proj and the attention products entirely, and the CPU SDPA kernel
  (_scaled_dot_product_flash_attention_for_cpu) is not in its registry. So count_torch turns the
  fast path off and forces SDPA's math backend while counting: every product then reaches
  FlopCounterMode as an aten mm/bmm/addmm. The arithmetic the model does is the same on every path.
- A jaxpr nests sub-jaxprs in the params of jit (pjit), custom_jvp_call, custom_vjp_call and
  closed_call equations; count_jax walks every Jaxpr/ClosedJaxpr it finds in any equation's params.
"""

import math
from collections.abc import Callable, Iterable
from typing import Any

TRAINING_FACTOR = 3


def training_flops(inference_flops: int) -> int:
    """FLOPs of one training step (forward, backward, update) by the rule above."""
    return TRAINING_FACTOR * inference_flops


def count_torch(module: Any, example: Any) -> int:
    """Total FLOPs of module(example) by the rule above.

    Runs the module once: pass a meta-device module
    and example (torch.device("meta")) to count without computing."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
            module(example)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return int(counter.get_total_flops())


def count_jax(fn: Callable[..., Any], *args: Any) -> int:
    """Total FLOPs of fn(*args) by the rule above, from its jaxpr (traced, not run; args may be
    jax.ShapeDtypeStruct)."""
    import jax

    return _count_jaxpr(jax.make_jaxpr(fn)(*args).jaxpr)


def _count_jaxpr(jaxpr: Any) -> int:
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            total += _dot_general_flops(eqn)
        elif name == "conv_general_dilated":
            total += _conv_flops(eqn)
        elif name in ("while", "cond"):
            raise ValueError(
                f"cannot count FLOPs through '{name}': the trip count or branch is dynamic"
            )
        else:
            times = eqn.params["length"] if name == "scan" else 1
            total += times * sum(_count_jaxpr(sub) for sub in _sub_jaxprs(eqn.params.values()))
    return total


def _sub_jaxprs(values: Iterable[Any]) -> Iterable[Any]:
    """The Jaxprs in an equation's params (ClosedJaxprs unwrapped, lists and tuples searched)."""
    from jax.extend import core

    for value in values:
        if isinstance(value, core.ClosedJaxpr):
            yield value.jaxpr
        elif isinstance(value, core.Jaxpr):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from _sub_jaxprs(value)


def _dot_general_flops(eqn: Any) -> int:
    """2 x prod(output shape) x prod(contracting dims of the left operand)."""
    (lhs_contract, _), _ = eqn.params["dimension_numbers"]
    lhs_shape = eqn.invars[0].aval.shape
    contracted = math.prod(lhs_shape[d] for d in lhs_contract)
    return 2 * math.prod(eqn.outvars[0].aval.shape) * contracted


def _conv_flops(eqn: Any) -> int:
    """2 x prod(output shape) x kernel spatial size x input channels per group (kernel's I)."""
    rhs_spec = eqn.params[
        "dimension_numbers"
    ].rhs_spec  # (O, I, spatial...) positions in the kernel
    kernel_shape = eqn.invars[1].aval.shape
    per_output = kernel_shape[rhs_spec[1]] * math.prod(kernel_shape[d] for d in rhs_spec[2:])
    return 2 * math.prod(eqn.outvars[0].aval.shape) * per_output
