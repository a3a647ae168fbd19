"""Matt Mazur's "A Step by Step Backpropagation Example" with tinygrad_bp.

Run: python examples/mazur.py
"""

from nn import MLP, half_squared_errors
from tinygrad_bp import Value

# The article's network: 2 inputs, 2 hidden and 2 output neurons, all logistic.
net = MLP.from_weights(
    [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],  # w1..w4, w5..w8
    [0.35, 0.60],  # b1 (shared by h1, h2) and b2 (shared by o1, o2)
    activation="sigmoid",
    output_activation="sigmoid",
)
weights = [p for p in net.parameters() if p.label.startswith("w")]  # biases stay fixed


def error() -> Value:
    i1, i2 = Value(0.05, "i1"), Value(0.10, "i2")
    out_o1, out_o2 = net([i1, i2])
    E_o1, E_o2 = half_squared_errors([out_o1, out_o2], [0.01, 0.99])
    return E_o1 + E_o2


E_total = error()
E_total.backward()  # every gradient, by the generic chain rule
print(f"E_total = {E_total.data:.9f}")  # 0.298371109
for w in weights:
    print(f"dE_total/d{w.label} = {w.grad:12.9f}")  # w5: 0.082167041

for step in range(10_000):
    for w in weights:  # all updated together, after the backward pass
        w.data -= 0.5 * w.grad
    net.zero_grad()
    E_total = error()
    if step == 0:
        print(f"after 1 update: E_total = {E_total.data:.9f}")  # 0.291027774
    E_total.backward()

print(f"after 10000 updates: E_total = {E_total.data:.4e}")  # 3.5102e-05
