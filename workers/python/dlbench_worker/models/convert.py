"""torchvision state dict <-> Flax variables of the matching flax_models model.

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

Both directions read the one mapping below: torch_key() names the torch tensor of a Flax leaf, and
_TO_FLAX_AXES says how its axes move; flax_to_torch applies the inverse permutation, so it is the
exact inverse of torch_to_flax by construction (pinned for all five models by test_weights.py).
Arrays may be numpy or anything with __array__ (torch tensors too); this module never imports torch,
so the jax worker can load canonical weights without it.
"""

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dlbench_worker.models import IMAGE_SIZE, flax_models

_IGNORED_SUFFIXES = ("num_batches_tracked",)
# How a transposed leaf's torch axes land in Flax, by rank: flax = torch.transpose(axes).
_TO_FLAX_AXES = {
    4: (2, 3, 1, 0),  # conv OIHW -> HWIO (depthwise (C, 1, kh, kw) -> (kh, kw, 1, C))
    2: (1, 0),  # linear (out, in) -> Dense (in, out)
}


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
        names = _path_names(path)
        key, transposed = torch_key(names)
        if key not in arrays:
            raise KeyError(
                f"{name}: flax {'/'.join(names)} wants torch {key!r}, which the state dict lacks"
            )
        value = arrays[key]
        if transposed and value.ndim in _TO_FLAX_AXES:
            value = value.transpose(_TO_FLAX_AXES[value.ndim])
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


def flax_to_torch(name: str, variables: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The canonical state dict (torchvision's names and shapes, no num_batches_tracked) of Flax
    variables of `name`, as C-contiguous float32 numpy arrays: the inverse of torch_to_flax."""
    template = dict(_flat_leaves(_variable_shapes(name)))
    leaves = dict(_flat_leaves(variables))
    for names in sorted(set(template) | set(leaves)):
        want = template[names].shape if names in template else None
        found = np.shape(leaves[names]) if names in leaves else None
        if want != found:
            raise ValueError(
                f"{name}: flax {'/'.join(names)} has shape {found}; the model wants {want}"
            )
    state = {}
    for names, leaf in leaves.items():
        key, transposed = torch_key(names)
        value = np.asarray(leaf, dtype=np.float32)
        if transposed and value.ndim in _TO_FLAX_AXES:
            value = value.transpose(_inverse(_TO_FLAX_AXES[value.ndim]))
        state[key] = np.ascontiguousarray(value)
    return state


def canonical_shapes(name: str) -> dict[str, tuple[int, ...]]:
    """Torch key -> shape of every tensor in `name`'s canonical layout, derived from the Flax
    model's shapes alone (nothing is drawn or computed)."""
    shapes = {}
    for names, leaf in _flat_leaves(_variable_shapes(name)):
        key, transposed = torch_key(names)
        shape = tuple(leaf.shape)
        if transposed and len(shape) in _TO_FLAX_AXES:
            shape = tuple(shape[axis] for axis in _inverse(_TO_FLAX_AXES[len(shape)]))
        shapes[key] = shape
    return shapes


def torch_key(flax_path: tuple[str, ...]) -> tuple[str, bool]:
    """(torch state-dict key, whether the axes are transposed) for a Flax variable path
    ("params" or "batch_stats", *modules, leaf). Kernels are transposed (_TO_FLAX_AXES by rank),
    everything else keeps its layout."""
    collection, *modules, leaf = flax_path
    prefix = ".".join(modules)
    if collection == "batch_stats":
        return f"{prefix}.{'running_mean' if leaf == 'mean' else 'running_var'}", False
    if modules and modules[-1] == "in_proj":
        parent = ".".join(modules[:-1])
        return f"{parent}.in_proj_{'weight' if leaf == 'kernel' else 'bias'}", leaf == "kernel"
    if leaf == "kernel":
        return f"{prefix}.weight", True
    if leaf == "scale":
        return f"{prefix}.weight", False
    if leaf == "bias":
        return f"{prefix}.bias", False
    return ".".join(modules + [leaf]), False  # class_token, pos_embedding


def _inverse(axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(axes))


def _path_names(path: tuple) -> tuple[str, ...]:
    return tuple(str(getattr(p, "key", p)) for p in path)


def _flat_leaves(variables: Any) -> list[tuple[tuple[str, ...], Any]]:
    flat, _ = jax.tree_util.tree_flatten_with_path(variables)
    return [(_path_names(path), leaf) for path, leaf in flat]


def _to_numpy(value: Any) -> np.ndarray:
    """A float32 numpy copy of a torch tensor (any dtype or device) or array-like."""
    if hasattr(value, "detach"):
        value = value.detach().to("cpu").float().numpy()
    return np.asarray(value, dtype=np.float32)


@functools.cache
def _variable_shapes(name: str) -> dict:
    """The shapes of `name`'s Flax variables (jax.ShapeDtypeStruct leaves), traced once per
    process."""
    model = flax_models.build(name)
    example = jax.ShapeDtypeStruct((1, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    return jax.eval_shape(model.init, jax.random.key(0), example)
