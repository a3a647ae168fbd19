"""The neuron of micrograd's lecture, as a function the command line can draw and play.

    tinygrad-bp draw examples/neuron.py:neuron -o neuron.svg
    tinygrad-bp viz examples/neuron.py:neuron -o neuron.html
    tinygrad-bp explain examples/neuron.py:neuron --wrt w1

The function returns the root and the parameters (coloured apart from the
inputs); the command runs backward, as it was not run here.
"""

from tinygrad_bp import Value


def neuron() -> tuple[Value, list[Value]]:
    x1, x2 = Value(2.0, "x1"), Value(0.0, "x2")
    w1, w2 = Value(-3.0, "w1"), Value(1.0, "w2")
    b = Value(6.8813735870195432, "b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, [w1, w2, b]


if __name__ == "__main__":
    o, _ = neuron()
    o.backward()
    print(f"o = {o.data:.9f}")
