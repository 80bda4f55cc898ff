"""The five models in Flax linen, layer for layer as torchvision 0.26 builds them.

Facts that shaped it (torchvision 0.26 and flax 0.12 sources, read 2026-11):
- Submodules carry torchvision's names ("layer1" / "0" / "conv1", "features" / "3" / "block" / "2" /
  "fc1"), so a Flax parameter path joined with "." is the torchvision state-dict key (convert.py).
- torchvision pads symmetrically ((k - 1) // 2, ResNet's stem 3); Flax's "SAME" pads a stride-2
  convolution on an even input asymmetrically, so every padding here is explicit.
- BatchNorm eps: 1e-5 for ResNet and EfficientNet-B0 (torch's default), 1e-3 for MobileNetV3;
  momentum (training only) torch's 0.1 except MobileNetV3's 0.01.
  LayerNorm eps 1e-6 in ViT. torch's nn.GELU is the exact (erf) form, while jax.nn.gelu defaults to
  tanh.
- ViT attention is nn.MultiheadAttention: one in_proj of 3*D outputs (q, k, v in that order, heads
  split head-major inside each), softmax(q k^T / sqrt(d_head)) v, then out_proj.
- Inputs are NHWC (Flax's convention). Every model takes `train` (default False). Inference:
  BatchNorm uses running statistics (Flax's nn.BatchNorm). Training: BatchNorm normalises with the
  batch's statistics and updates the running ones as torch does (TrainingBatchNorm below), so the
  `batch_stats` collection must be mutable. Dropout and EfficientNet's stochastic depth are off in
  both (identities), so neither appears: the torch worker keeps those modules in eval mode when it
  trains (docs/protocol.md).

Initialisers follow torchvision's distributions (not its values: the generators differ).
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp

from dlbench_worker.models import IMAGE_SIZE, MODELS, NUM_CLASSES

Activation = Callable[[jax.Array], jax.Array] | None

# torchvision: kaiming_normal_(mode="fan_out") with the default gain sqrt(2), untruncated.
_KAIMING_FAN_OUT = nn.initializers.variance_scaling(2.0, "fan_out", "normal")
_ZEROS = nn.initializers.zeros


def _symmetric_uniform(limit: float) -> nn.initializers.Initializer:
    def init(key: jax.Array, shape: tuple[int, ...], dtype: jnp.dtype = jnp.float32) -> jax.Array:
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    return init


def _torch_linear_default(fan_in: int) -> nn.initializers.Initializer:
    """torch.nn.Linear's default: uniform in +-1/sqrt(fan_in), for weight and bias alike."""
    return _symmetric_uniform(1 / math.sqrt(fan_in))


def _conv(
    features: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    *,
    bias: bool = False,
    padding: int | None = None,
    name: str,
) -> nn.Conv:
    """A torch-style Conv2d: symmetric padding (k - 1) // 2 unless given, kaiming fan-out init."""
    pad = (kernel - 1) // 2 if padding is None else padding
    return nn.Conv(
        features,
        (kernel, kernel),
        (stride, stride),
        padding=((pad, pad), (pad, pad)),
        feature_group_count=groups,
        use_bias=bias,
        kernel_init=_KAIMING_FAN_OUT,
        bias_init=_ZEROS,
        name=name,
    )


# torch's BatchNorm momentum 0.1 (running = 0.9 running + 0.1 batch) in Flax's convention, where
# momentum is the weight of the old value: running = momentum running + (1 - momentum) batch.
BATCH_NORM_MOMENTUM = 0.9


class TrainingBatchNorm(nn.Module):
    """torch's BatchNorm2d in train mode, with nn.BatchNorm's variables (params scale and bias,
    batch_stats mean and var), so the two share one set of weights.

    nn.BatchNorm (flax 0.12) is not used for training because it updates the running variance with
    the biased batch variance, where torch uses the unbiased one (BatchNorm2d's docstring, torch
    2.11: "the value stored in the moving average of the standard-deviation is calculated via the
    unbiased estimator"); its default variance is also the one-pass E[x^2] - E[x]^2. Here, as in
    torch: mean and biased variance of the batch (two passes, in fp32 whatever the input dtype)
    normalise; the running mean and the running variance times n / (n - 1) are folded in with
    torch's momentum; the output has the input's dtype."""

    epsilon: float
    momentum: float = BATCH_NORM_MOMENTUM

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        features = x.shape[-1]
        scale = self.param("scale", nn.initializers.ones, (features,), jnp.float32)
        bias = self.param("bias", nn.initializers.zeros, (features,), jnp.float32)
        ra_mean = self.variable("batch_stats", "mean", jnp.zeros, (features,), jnp.float32)
        ra_var = self.variable("batch_stats", "var", jnp.ones, (features,), jnp.float32)
        count = x.size // features
        if count < 2:  # torch: "Expected more than 1 value per channel when training"
            raise ValueError(f"BatchNorm in training needs > 1 value per channel, got {x.shape}")
        axes = tuple(range(x.ndim - 1))
        xf = x.astype(jnp.float32)
        mean = jnp.mean(xf, axes)
        var = jnp.mean(jnp.square(xf - mean), axes)
        if not self.is_initializing():
            keep = self.momentum
            ra_mean.value = keep * ra_mean.value + (1 - keep) * mean
            ra_var.value = keep * ra_var.value + (1 - keep) * var * (count / (count - 1))
        y = (xf - mean) * jax.lax.rsqrt(var + self.epsilon) * scale + bias
        return y.astype(x.dtype)


def _batch_norm(
    eps: float, name: str, train: bool, momentum: float = BATCH_NORM_MOMENTUM
) -> nn.Module:
    """nn.BatchNorm on running statistics for inference (unchanged, so inference outputs are what
    they were), TrainingBatchNorm for training; both hold the same variables."""
    if train:
        return TrainingBatchNorm(eps, momentum, name=name)
    return nn.BatchNorm(use_running_average=True, epsilon=eps, name=name)


def _hardswish(x: jax.Array) -> jax.Array:
    return jax.nn.hard_swish(x)


def _global_avg_pool(x: jax.Array, keepdims: bool = False) -> jax.Array:
    return jnp.mean(x, axis=(1, 2), keepdims=keepdims)


class ConvNormAct(nn.Module):
    """torchvision's Conv2dNormActivation (and ResNet's downsample): "0" conv, no bias; "1" BN."""

    features: int
    kernel: int
    stride: int = 1
    groups: int = 1
    eps: float = 1e-5
    act: Activation = None
    momentum: float = BATCH_NORM_MOMENTUM

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = _conv(self.features, self.kernel, self.stride, self.groups, name="0")(x)
        x = _batch_norm(self.eps, "1", train, self.momentum)(x)
        return x if self.act is None else self.act(x)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation: pool, 1x1 conv fc1, activation, 1x1 conv fc2, scale."""

    squeeze: int
    act: Callable[[jax.Array], jax.Array]
    scale_act: Callable[[jax.Array], jax.Array]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        s = _global_avg_pool(x, keepdims=True)
        s = self.act(_conv(self.squeeze, 1, bias=True, name="fc1")(s))
        s = self.scale_act(_conv(x.shape[-1], 1, bias=True, name="fc2")(s))
        return s * x


# ---------------------------------------------------------------------------------------- ResNet


class BasicBlock(nn.Module):
    planes: int
    stride: int = 1
    downsample: bool = False
    expansion = 1

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        out = _conv(self.planes, 3, self.stride, name="conv1")(x)
        out = nn.relu(_batch_norm(1e-5, "bn1", train)(out))
        out = _batch_norm(1e-5, "bn2", train)(_conv(self.planes, 3, name="conv2")(out))
        identity = x
        if self.downsample:
            identity = ConvNormAct(self.planes, 1, self.stride, name="downsample")(x, train)
        return nn.relu(out + identity)


class Bottleneck(nn.Module):
    """ResNet v1.5: the stride sits on the 3x3 convolution, as in torchvision."""

    planes: int
    stride: int = 1
    downsample: bool = False
    expansion = 4

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        out = nn.relu(_batch_norm(1e-5, "bn1", train)(_conv(self.planes, 1, name="conv1")(x)))
        out = _conv(self.planes, 3, self.stride, name="conv2")(out)
        out = nn.relu(_batch_norm(1e-5, "bn2", train)(out))
        out = _batch_norm(1e-5, "bn3", train)(_conv(self.planes * 4, 1, name="conv3")(out))
        identity = x
        if self.downsample:
            identity = ConvNormAct(self.planes * 4, 1, self.stride, name="downsample")(x, train)
        return nn.relu(out + identity)


class ResNetLayer(nn.Module):
    """ResNet._make_layer: the first block may stride and downsample, the rest keep the shape."""

    block: type[BasicBlock] | type[Bottleneck]
    planes: int
    blocks: int
    stride: int

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        first_downsample = self.stride != 1 or x.shape[-1] != self.planes * self.block.expansion
        x = self.block(self.planes, self.stride, first_downsample, name="0")(x, train)
        for idx in range(1, self.blocks):
            x = self.block(self.planes, name=str(idx))(x, train)
        return x


class ResNet(nn.Module):
    block: type[BasicBlock] | type[Bottleneck]
    layers: tuple[int, int, int, int]

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = _conv(64, 7, 2, padding=3, name="conv1")(x)
        x = nn.relu(_batch_norm(1e-5, "bn1", train)(x))
        x = nn.max_pool(x, (3, 3), (2, 2), padding=((1, 1), (1, 1)))
        for idx, (planes, blocks) in enumerate(zip((64, 128, 256, 512), self.layers, strict=True)):
            x = ResNetLayer(
                self.block, planes, blocks, 1 if idx == 0 else 2, name=f"layer{idx + 1}"
            )(x, train)
        fan_in = 512 * self.block.expansion
        init = _torch_linear_default(fan_in)
        return nn.Dense(NUM_CLASSES, kernel_init=init, bias_init=init, name="fc")(
            _global_avg_pool(x)
        )


# ------------------------------------------------------------------------------------ MobileNetV3


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision.models._utils._make_divisible with min_value = divisor."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


@dataclass(frozen=True)
class InvertedResidualConfig:
    """One row of torchvision's mobilenet_v3_small table (width_mult 1, no dilation)."""

    input_channels: int
    kernel: int
    expanded_channels: int
    out_channels: int
    use_se: bool
    use_hs: bool
    stride: int


_MOBILENET_V3_SMALL = tuple(
    InvertedResidualConfig(*row)
    for row in (
        (16, 3, 16, 16, True, False, 2),
        (16, 3, 72, 24, False, False, 2),
        (24, 3, 88, 24, False, False, 1),
        (24, 5, 96, 40, True, True, 2),
        (40, 5, 240, 40, True, True, 1),
        (40, 5, 240, 40, True, True, 1),
        (40, 5, 120, 48, True, True, 1),
        (48, 5, 144, 48, True, True, 1),
        (48, 5, 288, 96, True, True, 2),
        (96, 5, 576, 96, True, True, 1),
        (96, 5, 576, 96, True, True, 1),
    )
)
_MOBILENET_EPS = 1e-3
# torchvision builds MobileNetV3's BatchNorm with momentum 0.01 (running = 0.99 running + 0.01
# batch), not the default 0.1: 0.99 in Flax's convention.
_MOBILENET_MOMENTUM = 0.99


class InvertedResidualBlock(nn.Module):
    """The `block` of torchvision's InvertedResidual: expand?, depthwise, SE?, project."""

    cnf: InvertedResidualConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        cnf, eps, mom = self.cnf, _MOBILENET_EPS, _MOBILENET_MOMENTUM
        act = _hardswish if cnf.use_hs else nn.relu
        idx = 0
        if cnf.expanded_channels != cnf.input_channels:
            x = ConvNormAct(
                cnf.expanded_channels, 1, eps=eps, act=act, momentum=mom, name=str(idx)
            )(x, train)
            idx += 1
        x = ConvNormAct(
            cnf.expanded_channels,
            cnf.kernel,
            cnf.stride,
            cnf.expanded_channels,
            eps,
            act,
            mom,
            name=str(idx),
        )(x, train)
        idx += 1
        if cnf.use_se:
            squeeze = _make_divisible(cnf.expanded_channels // 4)
            x = SqueezeExcitation(squeeze, nn.relu, jax.nn.hard_sigmoid, name=str(idx))(x)
            idx += 1
        return ConvNormAct(cnf.out_channels, 1, eps=eps, momentum=mom, name=str(idx))(x, train)


class InvertedResidual(nn.Module):
    cnf: InvertedResidualConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        out = InvertedResidualBlock(self.cnf, name="block")(x, train)
        residual = self.cnf.stride == 1 and self.cnf.input_channels == self.cnf.out_channels
        return out + x if residual else out


class MobileNetV3Features(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = ConvNormAct(
            16, 3, 2, eps=_MOBILENET_EPS, act=_hardswish, momentum=_MOBILENET_MOMENTUM, name="0"
        )(x, train)
        for idx, cnf in enumerate(_MOBILENET_V3_SMALL):
            x = InvertedResidual(cnf, name=str(idx + 1))(x, train)
        last = len(_MOBILENET_V3_SMALL) + 1
        return ConvNormAct(
            6 * 96,
            1,
            eps=_MOBILENET_EPS,
            act=_hardswish,
            momentum=_MOBILENET_MOMENTUM,
            name=str(last),
        )(x, train)


class MobileNetV3Classifier(nn.Module):
    """Linear "0", Hardswish, Dropout (off: an identity), Linear "3"; weights normal(0.01),
    biases 0."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.normal(0.01)
        x = _hardswish(nn.Dense(1024, kernel_init=init, bias_init=_ZEROS, name="0")(x))
        return nn.Dense(NUM_CLASSES, kernel_init=init, bias_init=_ZEROS, name="3")(x)


class MobileNetV3Small(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = _global_avg_pool(MobileNetV3Features(name="features")(x, train))
        return MobileNetV3Classifier(name="classifier")(x)


# --------------------------------------------------------------------------------- EfficientNet-B0


@dataclass(frozen=True)
class MBConvConfig:
    expand_ratio: int
    kernel: int
    stride: int
    input_channels: int
    out_channels: int


# torchvision _efficientnet_conf("efficientnet_b0"): (expand, kernel, stride, in, out, layers).
_EFFICIENTNET_B0 = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)


class MBConvBlock(nn.Module):
    """The `block` of torchvision's MBConv: expand?, depthwise, SE (SiLU, sigmoid), project."""

    cnf: MBConvConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        cnf = self.cnf
        expanded = _make_divisible(cnf.input_channels * cnf.expand_ratio)
        idx = 0
        if expanded != cnf.input_channels:
            x = ConvNormAct(expanded, 1, act=nn.silu, name=str(idx))(x, train)
            idx += 1
        x = ConvNormAct(expanded, cnf.kernel, cnf.stride, expanded, act=nn.silu, name=str(idx))(
            x, train
        )
        squeeze = max(1, cnf.input_channels // 4)
        x = SqueezeExcitation(squeeze, nn.silu, nn.sigmoid, name=str(idx + 1))(x)
        return ConvNormAct(cnf.out_channels, 1, name=str(idx + 2))(x, train)


class MBConv(nn.Module):
    cnf: MBConvConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        out = MBConvBlock(self.cnf, name="block")(x, train)
        residual = self.cnf.stride == 1 and self.cnf.input_channels == self.cnf.out_channels
        return out + x if residual else out  # stochastic depth is off: the identity


class MBConvStage(nn.Module):
    expand_ratio: int
    kernel: int
    stride: int
    input_channels: int
    out_channels: int
    layers: int

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        for idx in range(self.layers):
            first = idx == 0
            cnf = MBConvConfig(
                self.expand_ratio,
                self.kernel,
                self.stride if first else 1,
                self.input_channels if first else self.out_channels,
                self.out_channels,
            )
            x = MBConv(cnf, name=str(idx))(x, train)
        return x


class EfficientNetFeatures(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = ConvNormAct(32, 3, 2, act=nn.silu, name="0")(x, train)
        for idx, row in enumerate(_EFFICIENTNET_B0):
            x = MBConvStage(*row, name=str(idx + 1))(x, train)
        last = ConvNormAct(4 * 320, 1, act=nn.silu, name=str(len(_EFFICIENTNET_B0) + 1))
        return last(x, train)


class EfficientNetClassifier(nn.Module):
    """Dropout "0" (off: an identity), Linear "1": weights uniform +-1/sqrt(out_features),
    biases 0."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = _symmetric_uniform(1 / math.sqrt(NUM_CLASSES))
        return nn.Dense(NUM_CLASSES, kernel_init=init, bias_init=_ZEROS, name="1")(x)


class EfficientNetB0(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = _global_avg_pool(EfficientNetFeatures(name="features")(x, train))
        return EfficientNetClassifier(name="classifier")(x)


# ---------------------------------------------------------------------------------------- ViT-B/16

_XAVIER = nn.initializers.xavier_uniform()


class SelfAttention(nn.Module):
    """nn.MultiheadAttention(batch_first=True) called as attention(x, x, x), without weights."""

    num_heads: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        batch, seq, dim = x.shape
        head_dim = dim // self.num_heads
        qkv = nn.Dense(3 * dim, kernel_init=_XAVIER, bias_init=_ZEROS, name="in_proj")(x)
        q, k, v = (
            t.reshape(batch, seq, self.num_heads, head_dim) for t in jnp.split(qkv, 3, axis=-1)
        )
        logits = jnp.einsum("bqhd,bkhd->bhqk", q / math.sqrt(head_dim), k)
        weights = jax.nn.softmax(logits, axis=-1)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(batch, seq, dim)
        init = _torch_linear_default(dim)
        return nn.Dense(dim, kernel_init=init, bias_init=_ZEROS, name="out_proj")(out)


class MLPBlock(nn.Module):
    """Linear "0", exact GELU, Dropout, Linear "3", Dropout; xavier weights, biases normal(1e-6)."""

    mlp_dim: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        bias = nn.initializers.normal(1e-6)
        y = nn.Dense(self.mlp_dim, kernel_init=_XAVIER, bias_init=bias, name="0")(x)
        y = jax.nn.gelu(y, approximate=False)
        return nn.Dense(x.shape[-1], kernel_init=_XAVIER, bias_init=bias, name="3")(y)


def _layer_norm(name: str) -> nn.LayerNorm:
    return nn.LayerNorm(epsilon=1e-6, use_fast_variance=False, name=name)


class EncoderBlock(nn.Module):
    num_heads: int
    mlp_dim: int

    @nn.compact
    def __call__(self, inputs: jax.Array) -> jax.Array:
        x = (
            SelfAttention(self.num_heads, name="self_attention")(_layer_norm("ln_1")(inputs))
            + inputs
        )
        return x + MLPBlock(self.mlp_dim, name="mlp")(_layer_norm("ln_2")(x))


class EncoderLayers(nn.Module):
    num_layers: int
    num_heads: int
    mlp_dim: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for idx in range(self.num_layers):
            x = EncoderBlock(self.num_heads, self.mlp_dim, name=f"encoder_layer_{idx}")(x)
        return x


class Encoder(nn.Module):
    num_layers: int
    num_heads: int
    mlp_dim: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        pos = self.param("pos_embedding", nn.initializers.normal(0.02), (1,) + x.shape[1:])
        x = EncoderLayers(self.num_layers, self.num_heads, self.mlp_dim, name="layers")(x + pos)
        return _layer_norm("ln")(x)


class Heads(nn.Module):
    """The classification head; normal(0.02) where torchvision has zeros (see torch_models.py)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        init = nn.initializers.normal(0.02)
        return nn.Dense(NUM_CLASSES, kernel_init=init, bias_init=init, name="head")(x)


class VisionTransformer(nn.Module):
    patch_size: int = 16
    num_layers: int = 12
    num_heads: int = 12
    hidden_dim: int = 768
    mlp_dim: int = 3072

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        """`train` changes nothing: ViT has no BatchNorm, and its dropouts are off (torchvision's
        defaults are 0 anyway)."""
        del train
        # torchvision: trunc_normal_(std=sqrt(1/fan_in)) cut at +-2, some 55 std: a plain normal.
        std = math.sqrt(1 / (3 * self.patch_size**2))
        patch = (self.patch_size, self.patch_size)
        x = nn.Conv(
            self.hidden_dim,
            patch,
            patch,
            padding="VALID",
            kernel_init=nn.initializers.normal(std),
            bias_init=_ZEROS,
            name="conv_proj",
        )(x)
        batch = x.shape[0]
        x = x.reshape(batch, -1, self.hidden_dim)  # row-major patches, as torch's reshape + permute
        cls = self.param("class_token", _ZEROS, (1, 1, self.hidden_dim))
        x = jnp.concatenate(
            [jnp.broadcast_to(cls, (batch, 1, self.hidden_dim)).astype(x.dtype), x], axis=1
        )
        x = Encoder(self.num_layers, self.num_heads, self.mlp_dim, name="encoder")(x)
        return Heads(name="heads")(x[:, 0])


# --------------------------------------------------------------------------------------------- API


def build(name: str) -> nn.Module:
    """The Flax module for `name`: NHWC images of IMAGE_SIZE x IMAGE_SIZE in, logits out."""
    constructors: dict[str, Callable[[], nn.Module]] = {
        "resnet18": lambda: ResNet(BasicBlock, (2, 2, 2, 2)),
        "resnet50": lambda: ResNet(Bottleneck, (3, 4, 6, 3)),
        "vit_b_16": VisionTransformer,
        "mobilenet_v3_small": MobileNetV3Small,
        "efficientnet_b0": EfficientNetB0,
    }
    if name not in constructors:
        raise ValueError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}")
    return constructors[name]()


def init(name: str, seed: int) -> dict:
    """Variables {"params", "batch_stats"?} of `name` drawn from `seed`, fp32, on the CPU.

    Always drawn on the CPU so that one seed gives the same weights whatever device runs the model.
    """
    key, example = _cpu_inputs(seed)
    return _compiled_init(name)(key, example)


def _cpu_inputs(seed: int) -> tuple[jax.Array, jax.Array]:
    cpu = jax.devices("cpu")[0]
    example = jnp.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), jnp.float32)
    return jax.device_put(jax.random.key(seed), cpu), jax.device_put(example, cpu)


@functools.cache
def _compiled_init(name: str) -> Callable[[jax.Array, jax.Array], dict]:
    """model.init compiled once per process for the CPU.

    Measured 2026-11 on a 2-core CPU (jax 0.11.2), compile + one run: EfficientNet-B0's init (some
    180 threefry draws) takes 12.1 + 0.1 s at XLA's default optimisation level, 7.6 + 0.4 s at level
    0 and 8.5 + 0.1 s at level 1; ViT-B/16's (86M draws) 6.9 + 1.1 s, 4.7 + 3.8 s and 4.8 + 0.8 s.
    Level 1 costs least in total. The weights are fixed for a given level, not between levels.
    """
    lowered = jax.jit(build(name).init).lower(*_cpu_inputs(0))
    return lowered.compile({"xla_backend_optimization_level": 1})


def parameter_count(variables: dict) -> int:
    """Elements in the "params" collection; batch_stats are running statistics, not parameters."""
    return sum(leaf.size for leaf in jax.tree_util.tree_leaves(variables["params"]))
