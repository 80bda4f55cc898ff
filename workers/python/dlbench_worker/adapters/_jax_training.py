"""The jax worker's training step (docs/protocol.md, `load` with mode "training"): one jitted
function of (params, opt_state, batch_stats, input, labels), its first three buffers donated.

Facts that shaped it (optax 0.2.8, flax 0.12.10 and jax 0.11.2 sources, read 2026-11):
- The optimizers are torch's (adapters/_torch_training.py), written as the chains that optax's own
  aliases build (optax/_src/alias.py), each link named with optax.named_chain so that the opt_state
  names its links: SGD is add_decayed_weights(wd) (torch adds wd * p to the gradient before the
  momentum), trace(momentum, nesterov) (trace = g + momentum * trace from zeros, so its first
  value is the first gradient, as torch's buffer), scale_by_learning_rate(lr): optax.chain(
  optax.add_decayed_weights(wd), optax.sgd(lr, momentum, nesterov)) link for link. With momentum 0
  the trace is left out, as optax.sgd(momentum=None) does and as torch keeps no buffer. AdamW is
  optax.adamw's chain scale_by_adam(b1, b2, eps) (bias-corrected, eps outside the square root),
  add_decayed_weights(wd), scale_by_learning_rate(lr), which is torch's p -= lr * (wd * p + adam).
  test_training.py pins the chains to optax.sgd and optax.adamw, and both to torch.
- Mixed precision (bf16): the fp32 parameters are cast to bf16 inside the step, the forward runs in
  bf16, the logits are cast to fp32 for the loss, and the gradients, taken with respect to the fp32
  parameters (the cast's transpose casts them back), update fp32 parameters and optimizer state.
  BatchNorm's running statistics stay fp32 (flax_models.TrainingBatchNorm).
- model.apply(..., train=True, mutable=["batch_stats"]) returns the updated running statistics; a
  model without BatchNorm (ViT) returns none, and its batch_stats is an empty dict throughout.
- jax.jit(..., donate_argnums) lets XLA write the new parameters, optimizer state and running
  statistics into the old ones' buffers (the old arrays are deleted); the compiled step's args_info
  says which arguments were donated, which the settings report.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dlbench_worker.protocol import AdamWOptimizer, Optimizer, SgdOptimizer

ARGUMENTS = ("params", "opt_state", "batch_stats", "input", "labels")
DONATED = (0, 1, 2)


def make_optimizer(spec: Optimizer) -> optax.GradientTransformation:
    """torch's optimizer of the request as an optax named_chain (see the module docstring)."""
    if isinstance(spec, SgdOptimizer):
        links = [("add_decayed_weights", optax.add_decayed_weights(spec.weight_decay))]
        if spec.momentum > 0:
            links.append(("trace", optax.trace(decay=spec.momentum, nesterov=spec.nesterov)))
        links.append(("scale_by_learning_rate", optax.scale_by_learning_rate(spec.lr)))
        return optax.named_chain(*links)
    assert isinstance(spec, AdamWOptimizer)
    return optax.named_chain(
        ("scale_by_adam", optax.scale_by_adam(b1=spec.beta1, b2=spec.beta2, eps=spec.eps)),
        ("add_decayed_weights", optax.add_decayed_weights(spec.weight_decay)),
        ("scale_by_learning_rate", optax.scale_by_learning_rate(spec.lr)),
    )


def tree_bytes(tree: Any) -> int:
    return sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(tree))


class Trainer:
    """The training state (fp32 params, opt_state, batch_stats) and its compiled step."""

    def __init__(
        self, model: Any, variables: dict, labels: jax.Array, spec: Optimizer, bf16: bool
    ) -> None:
        self.model = model
        self.spec = spec
        self.params = variables["params"]
        self.batch_stats = variables.get("batch_stats", {})
        self.tx = make_optimizer(spec)
        self.opt_state = self.tx.init(self.params)
        self.labels = labels
        self.compiled: Any = None  # jax.stages.Compiled of _step, set by compile()
        self._compute_dtype = jnp.bfloat16 if bf16 else None
        self._initial: Any = None

    def compile(self, x: jax.Array) -> None:
        """Traces, lowers and compiles the step for inputs of x's shape and dtype."""
        jitted = jax.jit(self._step, donate_argnums=DONATED)
        lowered = jitted.lower(self.params, self.opt_state, self.batch_stats, x, self.labels)
        self.compiled = lowered.compile()

    def step(self, x: jax.Array) -> jax.Array:
        """Dispatches one step; returns its loss, which is ready when the whole step is."""
        self.params, self.opt_state, self.batch_stats, loss = self.compiled(
            self.params, self.opt_state, self.batch_stats, x, self.labels
        )
        return loss

    def _step(
        self, params: Any, opt_state: Any, batch_stats: Any, x: jax.Array, labels: jax.Array
    ) -> tuple[Any, Any, Any, jax.Array]:
        grad_fn = jax.value_and_grad(self._loss, has_aux=True)
        (loss, batch_stats), grads = grad_fn(params, batch_stats, x, labels)
        updates, opt_state = self.tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, batch_stats, loss

    def _loss(
        self, params: Any, batch_stats: Any, x: jax.Array, labels: jax.Array
    ) -> tuple[jax.Array, Any]:
        """Mean cross-entropy of the training forward, and the updated running statistics."""
        if self._compute_dtype is not None:
            params = jax.tree.map(lambda p: p.astype(self._compute_dtype), params)
        variables = {"params": params, **({"batch_stats": batch_stats} if batch_stats else {})}
        logits, updated = self.model.apply(variables, x, train=True, mutable=["batch_stats"])
        losses = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)
        return jnp.mean(losses), updated.get("batch_stats", batch_stats)

    def variables(self) -> dict:
        """The current weights as Flax variables (for save_weights)."""
        if not self.batch_stats:
            return {"params": self.params}
        return {"params": self.params, "batch_stats": self.batch_stats}

    def keep_initial(self) -> None:
        """Copies params and batch_stats to host memory: the step donates their buffers, and a
        numpy view of a CPU buffer could share it, hence the explicit copy."""
        self._initial = jax.tree.map(
            lambda a: np.array(a, copy=True), (self.params, self.batch_stats)
        )

    def restore_initial(self, device: jax.Device) -> None:
        """Puts back what keep_initial kept and starts the optimizer state afresh."""
        self.params, self.batch_stats = jax.device_put(self._initial, device)
        self._initial = None
        self.opt_state = self.tx.init(self.params)

    def donated(self) -> list[str]:
        """The step's arguments whose every buffer is donated, read from the compiled step (an
        argument without buffers, such as ViT's empty batch_stats, is not listed)."""
        positional, _ = self.compiled.args_info
        return [
            name
            for name, info in zip(ARGUMENTS, positional, strict=True)
            if (leaves := jax.tree_util.tree_leaves(info)) and all(leaf.donated for leaf in leaves)
        ]

    def optimizer_settings(self) -> dict[str, Any]:
        """The hyper-parameters the chain was built with, and its links' names from opt_state."""
        return {
            "name": self.spec.name,
            **dataclasses.asdict(self.spec),
            "optax_chain": list(self.opt_state),
        }
