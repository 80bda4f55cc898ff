"""torchvision state dict -> Flax variables of the matching flax_models model.

The Flax modules carry torchvision's submodule names, so a Flax path joined with "." is the torch
key of the same tensor; only the leaf names and layouts differ (flax 0.12 / torch 2.11, read
2026-11):
- Conv kernels: torch OIHW (depthwise: (C, 1, kh, kw)) -> Flax HWIO (depthwise: (kh, kw, 1, C)).
- Linear weights: torch (out, in) -> Flax Dense kernel (in, out).
- Norms: weight/bias -> scale/bias; running_mean/running_var -> batch_stats mean/var.
- nn.MultiheadAttention keeps q, k, v in one in_proj_weight (3D, D) / in_proj_bias, which the Flax
  model mirrors with one Dense named "in_proj"; out_proj is an ordinary Linear.
- class_token and pos_embedding are plain parameters with the same shape in both.

Every Flax leaf must be filled and every torch tensor used (num_batches_tracked excepted, a training
counter), else the layer-for-layer claim is false and we raise.
"""

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dlbench_worker.models import IMAGE_SIZE, flax_models

_IGNORED_SUFFIXES = ("num_batches_tracked",)


def torch_to_flax(name: str, state_dict: Mapping[str, Any]) -> dict:
    """Flax variables ({"params", "batch_stats"?}) holding a torchvision state dict's tensors."""
    template = _variable_shapes(name)
    arrays = {
        key: _to_numpy(value)
        for key, value in state_dict.items()
        if not key.endswith(_IGNORED_SUFFIXES)
    }
    used: set[str] = set()

    def fill(path: tuple, leaf: jax.ShapeDtypeStruct) -> jax.Array:
        names = tuple(str(getattr(p, "key", p)) for p in path)
        key, layout = torch_key(names)
        if key not in arrays:
            raise KeyError(
                f"{name}: flax {'/'.join(names)} wants torch {key!r}, which the state dict lacks"
            )
        value = _to_flax_layout(arrays[key], layout)
        if value.shape != leaf.shape:
            raise ValueError(
                f"{name}: torch {key!r} has shape {value.shape} after conversion; "
                f"flax {'/'.join(names)} has {leaf.shape}"
            )
        used.add(key)
        return jnp.asarray(value, jnp.float32)

    variables = jax.tree_util.tree_map_with_path(fill, template)
    unused = sorted(set(arrays) - used)
    if unused:
        raise ValueError(
            f"{name}: torch tensors without a flax counterpart: {', '.join(unused[:5])}"
        )
    return variables


def torch_key(flax_path: tuple[str, ...]) -> tuple[str, str]:
    """(torch state-dict key, layout) for a Flax variable path ("params", *modules, leaf)."""
    collection, *modules, leaf = flax_path
    prefix = ".".join(modules)
    if collection == "batch_stats":
        return f"{prefix}.{'running_mean' if leaf == 'mean' else 'running_var'}", "same"
    if modules and modules[-1] == "in_proj":
        parent = ".".join(modules[:-1])
        return (
            f"{parent}.in_proj_{'weight' if leaf == 'kernel' else 'bias'}",
            "linear" if leaf == "kernel" else "same",
        )
    if leaf == "kernel":
        return f"{prefix}.weight", "kernel"
    if leaf == "scale":
        return f"{prefix}.weight", "same"
    if leaf == "bias":
        return f"{prefix}.bias", "same"
    return ".".join(modules + [leaf]), "same"  # class_token, pos_embedding


def _to_flax_layout(value: np.ndarray, layout: str) -> np.ndarray:
    if layout == "kernel" and value.ndim == 4:
        return value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if layout in ("kernel", "linear"):
        return value.T  # (out, in) -> (in, out)
    return value


def _to_numpy(value: Any) -> np.ndarray:
    """A float32 numpy copy of a torch tensor (any dtype or device) or array-like."""
    if hasattr(value, "detach"):
        value = value.detach().to("cpu").float().numpy()
    return np.asarray(value, dtype=np.float32)


def _variable_shapes(name: str) -> dict:
    model = flax_models.build(name)
    example = jax.ShapeDtypeStruct((1, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    return jax.eval_shape(model.init, jax.random.key(0), example)
