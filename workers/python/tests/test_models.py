"""The five models are the same in torch and in Flax: parameters, FLOPs, shapes, seeds, outputs.

Pins docs/models.md: parameter counts equal torchvision's published numbers in both frameworks;
FLOPs per sample by the one rule (models/flops.py) are equal between frameworks and pinned here, so
a change to a model or to the rule shows up; a seed fixes the weights; and torch weights converted
by convert.torch_to_flax give the same logits in Flax at fp32 on the CPU (the layer-for-layer
proof). Batch-norm and layer-norm statistics, and the zero-initialised biases, are randomised before
the conversion check, because at their initial values (mean 0, var 1, scale 1, bias 0) a swapped
mean and var, or scale and bias, or a wrong eps would go unnoticed. Kept at batch 1 (2 for shapes,
traced only) for a 2-core CPU; the whole file runs in under two
minutes.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from model_helpers import randomize_norms_and_biases

from dlbench_worker.models import (
    IMAGE_SIZE,
    MODELS,
    NUM_CLASSES,
    convert,
    flax_models,
    flops,
    torch_models,
)

# torchvision's published parameter counts (weights metadata "num_params", torchvision 0.26).
PARAMETERS = {
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "vit_b_16": 86_567_656,
    "mobilenet_v3_small": 2_542_856,
    "efficientnet_b0": 5_288_548,
}
# Our own count (models/flops.py), pinned: 2 x MACs of convolutions and matrix products per sample.
FLOPS_PER_SAMPLE = {
    "resnet18": 3_628_146_688,
    "resnet50": 8_178_368_512,
    "vit_b_16": 35_127_656_448,
    "mobilenet_v3_small": 113_020_800,
    "efficientnet_b0": 771_629_504,
}
CONVERSION_RTOL = (
    2e-5  # of the largest |logit|: observed 2e-7 to 1.1e-6; a wrong BN eps (1e-5 for 1e-3)
)
# in MobileNetV3 gives 1.2e-4 and tanh GELU in ViT 1.9e-4, so 1e-4 would hardly tell them apart

torch.set_num_threads(2)


@functools.cache
def _flax_apply(name: str):
    return jax.jit(flax_models.build(name).apply)


def _abstract_variables(name: str) -> dict:
    example = jax.ShapeDtypeStruct((1, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    return jax.eval_shape(flax_models.build(name).init, jax.random.key(0), example)


def _torch_input(batch: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(
        batch, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(seed)
    )


def _nhwc(x: torch.Tensor) -> jax.Array:
    return jnp.asarray(x.permute(0, 2, 3, 1).numpy())


def _torch_logits(model: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return model(x).numpy()


@pytest.mark.parametrize("name", MODELS)
def test_parameter_counts_equal_torchvision_in_both(name: str) -> None:
    assert torch_models.parameter_count(torch_models.build(name, 0)) == PARAMETERS[name]
    assert flax_models.parameter_count(_abstract_variables(name)) == PARAMETERS[name]


@pytest.mark.parametrize("name", MODELS)
def test_flops_per_sample_equal_between_frameworks(name: str) -> None:
    batch = 2
    with torch.device("meta"):
        model = torch_models.build(name, 0)
        example = torch.empty(batch, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch_total = flops.count_torch(model, example)
    images = jax.ShapeDtypeStruct((batch, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    jax_total = flops.count_jax(flax_models.build(name).apply, _abstract_variables(name), images)
    assert torch_total == jax_total
    assert torch_total == batch * FLOPS_PER_SAMPLE[name]


def test_torch_flop_count_includes_attention_in_inference_mode() -> None:
    """MHA's fast path hides in_proj, out_proj and attention from FlopCounterMode (flops.py)."""
    model, x = torch_models.build("vit_b_16", 0), _torch_input(1)
    with torch.inference_mode():
        assert flops.count_torch(model, x) == FLOPS_PER_SAMPLE["vit_b_16"]
    assert torch.backends.mha.get_fastpath_enabled()  # restored after counting


@pytest.mark.parametrize("name", MODELS)
def test_output_shapes_are_batch_by_classes(name: str) -> None:
    batch = 2
    with torch.device("meta"):
        out = torch_models.build(name, 0)(torch.empty(batch, 3, IMAGE_SIZE, IMAGE_SIZE))
    images = jax.ShapeDtypeStruct((batch, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    jax_out = jax.eval_shape(flax_models.build(name).apply, _abstract_variables(name), images)
    assert tuple(out.shape) == jax_out.shape == (batch, NUM_CLASSES)


@pytest.mark.parametrize("name", MODELS)
def test_torch_seed_fixes_weights_and_outputs(name: str) -> None:
    x = _torch_input(1)
    first, again, other = (_torch_logits(torch_models.build(name, seed), x) for seed in (0, 0, 1))
    assert first.shape == (1, NUM_CLASSES)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", MODELS)
def test_flax_seed_fixes_weights_and_outputs(name: str) -> None:
    x = _nhwc(_torch_input(1))
    first, again, other = (
        np.asarray(_flax_apply(name)(flax_models.init(name, seed), x)) for seed in (0, 0, 1)
    )
    assert first.shape == (1, NUM_CLASSES)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert np.all(np.isfinite(first))


@pytest.mark.parametrize("name", MODELS)
def test_converted_torch_weights_give_the_same_logits_in_flax(name: str) -> None:
    model = torch_models.build(name, 0)
    randomize_norms_and_biases(model, seed=2)
    x = _torch_input(1)
    expected = _torch_logits(model, x)
    got = np.asarray(_flax_apply(name)(convert.torch_to_flax(name, model.state_dict()), _nhwc(x)))
    assert got.shape == expected.shape == (1, NUM_CLASSES)
    scale = np.abs(expected).max()
    assert scale > 1e-3  # the logits carry signal, so the comparison means something
    max_err = np.abs(got - expected).max()
    print(
        f"{name}: max |flax - torch| = {max_err:.3g}, max |logit| = {scale:.3g}, "
        f"relative {max_err / scale:.3g}"
    )
    assert max_err <= CONVERSION_RTOL * scale


def test_conversion_rejects_a_state_dict_of_another_model() -> None:
    state = torch_models.build("resnet18", 0).state_dict()
    with pytest.raises((KeyError, ValueError)):
        convert.torch_to_flax("resnet50", state)


def test_model_names_import_no_framework() -> None:
    """The protocol and synthetic worker use dlbench_worker.models with no framework installed."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, dlbench_worker.models, dlbench_worker.adapters._common;"
        "assert not {'torch', 'jax', 'flax'} & set(sys.modules), sorted(sys.modules)"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
