"""Your own expression as straight-line Python: its forward pass, then its backward pass.

trace() writes a graph out as code, one statement per node, named from the
labels, and runs that code on the leaves' current values. Then one
example's graph traced once and looped over a whole data set.

Run: python examples/trace_expression.py
"""

import math

from tinygrad_bp import Value, op, trace


@op
def softplus(x):
    """A smooth relu, as a user's op: the trace calls its rule."""
    return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)


# 1. An expression of your own, labelled as you would write it by hand.
x, w, b = Value(0.5, "x"), Value(-1.5, "w"), Value(0.25, "b")
z = w * x + b
z.label = "z"
y = softplus(z) * z.tanh()
y.label = "y"

traced = trace(y)
print(traced.source)

# 2. Calling it recomputes from the leaves' current values and accumulates
#    their gradients, exactly as y.backward() would on a graph built anew.
w.data = 2.0
value = traced()
print(f"y = {value:.9f}, dy/dw = {w.grad:.9f}, dy/dx = {x.grad:.9f}, dy/db = {b.grad:.9f}")

# 3. One example's graph, traced once, looped over the data inside the code.
a = Value(0.0, "a")


def squared_error(t, target):
    """(a·t - target)²: one example's term of a least-squares fit."""
    return (a * t - target) ** 2


fit = trace(squared_error, 1.0, 2.0)
data = [(t, 3.0 * t) for t in (0.5, 1.0, 1.5, 2.0)]
for _ in range(50):
    a.grad = 0.0
    loss = fit(data, mean=True)
    a.data -= 0.2 * a.grad
print(f"least squares: a = {a.data:.6f} (the data's slope is 3), loss {loss:.2e}")
