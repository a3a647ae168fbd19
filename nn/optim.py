"""Optimizers: SGD (momentum, weight decay) and Adam, with PyTorch's update rules.

An optimizer holds a list of parameters (any Values: the article trains its
weights and leaves the biases fixed) and, per parameter, whatever state its
rule needs. ``zero_grad()`` clears the gradients, ``step()`` applies one
update from them.

>>> from tinygrad_bp import Value
>>> from nn.optim import SGD
>>> w = Value(0.40, "w5")
>>> opt = SGD([w], lr=0.5)
>>> loss = w * 2.0
>>> opt.zero_grad(); loss.backward(); opt.step()
>>> w.data  # 0.40 − 0.5 · 2
-0.6
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from tinygrad_bp import Value
from tinygrad_bp.checks import positive_lr as _positive_lr  # Traced.sgd's check too
from tinygrad_bp.checks import real_number as _real


def _in_range(value: object, name: str, where: str, low: float, high: float) -> float:
    """``value`` as a float in [low, high), or a ValueError saying so."""
    x = _real(value, name, where)
    if not low <= x < high:  # also refuses NaN
        upper = "∞" if math.isinf(high) else repr(high)
        raise ValueError(f"{where}: {name} must be in [{low!r}, {upper}), got {x!r}")
    return x


class Optimizer:
    """The base: a parameter list, a validated learning rate, ``zero_grad()``.

    ``lr`` may be changed between steps (a schedule); it is checked each time.
    A parameter listed twice (a shared bias reached through two neurons) is
    kept once, so it is updated once.
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        where = type(self).__name__
        plist = list(params)
        for i, p in enumerate(plist):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{where}: parameters must be Values, got {type(p).__name__} at index {i}"
                )
        if not plist:
            raise ValueError(f"{where}: got an empty parameter list")
        self.params: list[Value] = list(dict.fromkeys(plist))
        self.lr = lr

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _positive_lr(value, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (leaves accumulate across ``backward()``)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its ``grad``."""
        raise NotImplementedError

    def _grads(self) -> list[float]:
        """Every gradient, after checking that all are finite: nothing moves otherwise."""
        grads = [p.grad for p in self.params]
        for p, g in zip(self.params, grads):
            if not math.isfinite(g):
                name = f" {p.label!r}" if p.label else ""
                raise ValueError(
                    f"{type(self).__name__}.step: the gradient of parameter{name} is {g!r}; "
                    f"expected a finite number. No parameter was changed."
                )
        return grads


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (no dampening, no Nesterov).

    Per parameter p with gradient g, learning rate lr::

        g ← g + weight_decay · p          (L2 weight decay)
        b ← g on the first step, then momentum · b + g
        p ← p − lr · b                    (b is g itself without momentum)

    >>> w = Value(1.0)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     w.grad = 1.0
    ...     opt.step()
    >>> round(w.data, 12)  # 1 − 0.1·1 − 0.1·(0.9·1 + 1)
    0.71
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _in_range(momentum, "momentum", "SGD", 0.0, 1.0)
        self.weight_decay = _in_range(weight_decay, "weight_decay", "SGD", 0.0, math.inf)
        self.velocity: list[float] | None = None  # the momentum buffers, made on the first step

    def step(self) -> None:
        grads = self._grads()
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if wd:
            grads = [g + wd * p.data for p, g in zip(self.params, grads)]
        if mu:
            if self.velocity is None:
                self.velocity = grads
            else:
                self.velocity = [mu * b + g for b, g in zip(self.velocity, grads)]
            grads = self.velocity
        for p, g in zip(self.params, grads):
            p.data -= lr * g


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (weight decay as L2, not AdamW).

    Per parameter p with gradient g, at step t = 1, 2, ...::

        g ← g + weight_decay · p
        m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ)              v̂ = v / (1 − β₂ᵗ)
        p ← p − lr · m̂ / (√v̂ + eps)

    The first step moves every parameter by about lr, whatever its gradient's size:

    >>> w = Value(1.0)
    >>> opt = Adam([w], lr=0.01)
    >>> w.grad = 123.0
    >>> opt.step()
    >>> round(w.data, 9)
    0.99
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _in_range(betas[0], "beta1", "Adam", 0.0, 1.0),
            _in_range(betas[1], "beta2", "Adam", 0.0, 1.0),
        )
        self.eps = _in_range(eps, "eps", "Adam", 0.0, math.inf)
        if self.eps == 0.0:  # √v̂ is 0 for a parameter whose gradients were all 0
            raise ValueError("Adam: eps must be positive (it keeps m̂ / (√v̂ + eps) finite), got 0.0")
        self.weight_decay = _in_range(weight_decay, "weight_decay", "Adam", 0.0, math.inf)
        self.t = 0  # steps taken
        self.m = [0.0] * len(self.params)  # first moments
        self.v = [0.0] * len(self.params)  # second moments

    def step(self) -> None:
        grads = self._grads()
        b1, b2 = self.betas
        wd, lr, eps = self.weight_decay, self.lr, self.eps
        self.t += 1
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if wd:
                g += wd * p.data
            m = self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            v = self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            p.data -= lr * (m / correction1) / (math.sqrt(v / correction2) + eps)
