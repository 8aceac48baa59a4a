"""Muon, as keras.optimizers.Muon (Jordan et al. 2024; Liu et al. 2025): momentum SGD whose step on a
weight matrix is orthogonalised by a few Newton-Schulz iterations; the other variables take AdamW."""
import re

import numpy as np

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.linalg import matmul, swap_last
from mlcore.graph.ops.reduce import sum_
from mlcore.ops.eager import on_values
from mlcore.optimizers.base import Optimizer


class Muon(Optimizer):
    """Keras's selection: a variable takes the AdamW step unless it is 2-D, and, with exclude_embeddings,
    its path names no "embedding", and no pattern of exclude_layers is found (re.search) in its path.
    The Muon step: m <- momentum * m + g; with nesterov, g + momentum * m (else m) is orthogonalised
    and scaled by sqrt(max(rows, cols)) * rms_rate (when rms_rate is set).  Weight decay before the
    step is weight_decay for Muon's matrices, adam_weight_decay for the AdamW variables."""

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004,
                 epsilon=1e-7, weight_decay=0.004, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, exclude_layers=None, exclude_embeddings=True,
                 muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5,
                 nesterov=True, rms_rate=0.2, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name, **kwargs)
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps, self.nesterov = adam_lr_ratio, momentum, ns_steps, nesterov
        self.exclude_embeddings, self.exclude_layers = exclude_embeddings, exclude_layers or []
        self.adam_weight_decay, self.rms_rate = adam_weight_decay, rms_rate

    def _should_use_adamw(self, variable):
        if variable.ndim != 2:
            return True
        path = getattr(variable, "path", None) or variable.name or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, variables):
        """A momentum per variable, followed by a velocity for an AdamW one (Keras's order)."""
        if self.built:
            return
        super().build(variables)
        self._momentums, self._adam_velocities = [], []
        for variable in variables:
            self._momentums.append(self.add_variable_from_reference(variable, "momentum"))
            self._adam_velocities.append(self.add_variable_from_reference(variable, "velocity")
                                         if self._should_use_adamw(variable) else None)

    def _weight_decay_rate(self, variable):
        return self.adam_weight_decay if self._should_use_adamw(variable) else self.weight_decay

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._adam_velocities[index]
        if v is not None:
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio, m, v)
        else:
            self._muon_update_step(gradient, variable, learning_rate, m)

    def _muon_update_step(self, gradient, variable, learning_rate, m):
        m = self.assign_add(m, gradient + m * (self.momentum - 1))
        direction = gradient + self.momentum * m if self.nesterov else m
        update = learning_rate * self.zeropower_via_newtonschulz5(direction, self.ns_steps)
        self.assign_sub(variable, self.lr_adjust(update))

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        alpha = lr * ew.sqrt(1 - self.adam_beta_2 ** local_step) / (1 - self.adam_beta_1 ** local_step)
        m = self.assign_add(m, (gradient - m) * (1 - self.adam_beta_1))
        v = self.assign_add(v, (ew.sqr(gradient) - v) * (1 - self.adam_beta_2))
        self.assign_sub(variable, m * alpha / (ew.sqrt(v) + self.epsilon))

    @on_values
    def lr_adjust(self, x):
        """Moonlight's scaling, so that Muon can share Adam's learning rate and weight decay (on arrays, an
        array: Keras's public method)."""
        if self.rms_rate is None:
            return x
        x = as_tensor_variable(x)
        rows, cols = x.type.shape[:2]
        return x * np.sqrt(np.float32(max(rows, cols))) * self.rms_rate

    @on_values
    def zeropower_via_newtonschulz5(self, x, steps):
        """An approximation of U V^T for x = U S V^T: x scaled to a spectral norm of at most 1, then
        `steps` quintic iterations x <- a x + (b A + c A A) x, A = x x^T, on the wide orientation (on
        arrays, an array: Keras's public method)."""
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 dimensions. Received: shape=%s"
                             % (x.type.shape,))
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.type.shape[-2] > x.type.shape[-1]
        if tall:
            x = swap_last(x)
        x = x / (ew.sqrt(sum_(ew.sqr(x), axis=(-2, -1), keepdims=True)) + 1e-7)
        for _ in range(steps):
            gram = matmul(x, swap_last(x))
            x = a * x + matmul(b * gram + matmul(c * gram, gram), x)
        return swap_last(x) if tall else x

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                "epsilon": self.epsilon, "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum, "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings, "adam_weight_decay": self.adam_weight_decay,
                "rms_rate": self.rms_rate}
