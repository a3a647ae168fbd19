"""New ops for tinygrad_bp: write the rule, check it with gradcheck, look at the graph.

An op is a function of plain floats that returns its value and one local
derivative per input. ``@op`` turns it into a function of Values.

Run: python examples/custom_op.py
"""

import math
import sys
from pathlib import Path

from tinygrad_bp import Value, draw, gradcheck, op
from tinygrad_bp.finite_differences import GradcheckError
from tinygrad_bp.graph import topological_order
from tinygrad_bp.show import render


@op
def softplus(x):
    return math.log1p(math.exp(x)), (1 / (1 + math.exp(-x)),)


@op
def hypot(a, b):
    """The length sqrt(a² + b²); ∂/∂a = a / length, ∂/∂b = b / length (not at 0, 0)."""
    h = math.hypot(a, b)
    return h, (a / h, b / h)


# 1. Check each op against central finite differences, alone and inside an
#    expression: gradcheck returns True or raises, naming the input that is off.
print("gradcheck softplus:", all(gradcheck(softplus, [x]) for x in (-3.0, -0.5, 0.0, 2.0)))
print("gradcheck hypot:", gradcheck(hypot, [3.0, -4.0]) and gradcheck(hypot, [0.1, 2.0]))
print(
    "gradcheck in an expression:",
    gradcheck(lambda x, y: softplus(hypot(x, y) - 2) * x, [3.0, -4.0]),
)


# 2. Use them like the built-in ops.
x, y = Value(3.0, "x"), Value(-4.0, "y")
r = hypot(x, y)
r.label = "r"
z = r - 4.5
z.label = "z"
out = softplus(z)
out.label = "out"
out.backward()
print(f"out = softplus(hypot(x, y) - 4.5) = {out.data:.6f}")  # log(1 + e^0.5) = 0.974077
print(f"d out/dx = {x.grad:.6f}, d out/dy = {y.grad:.6f}")  # σ(0.5)·(3/5), σ(0.5)·(−4/5)


# 3. A wrong rule is caught: e^x forgot to be divided by 1 + e^x.
@op
def softplus_wrong(x):
    return math.log1p(math.exp(x)), (math.exp(x),)


try:
    gradcheck(softplus_wrong, [Value(0.5, "x")])
except GradcheckError as error:
    print(f"caught: {error}")


# 4. The graph. Every node records its op, its parents and the local
#    derivative along each edge; backward() multiplied them along the paths.
def describe(node: Value) -> str:
    return node.label or f"({node.op})"


print("\nThe graph of out, inputs first:")
for node in topological_order(out):
    line = f"  {describe(node):>6}  data {node.data:9.6f}  grad {node.grad:9.6f}"
    if node.parents:
        edges = ", ".join(
            f"∂{describe(node)}/∂{describe(p)} = {d:.6f}"
            for p, d in zip(node.parents, node.local_grads)
        )
        line += f"   {node.op}: {edges}"
    print(line)

# 5. The same graph drawn: each op's name on its node, each edge labelled with
#    its local derivative. Rendering uses the Graphviz bundled with pygraphviz.
out_path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("custom_op.svg")
render(draw(out, edge_labels=True), out_path)
print(f"\nDrew the graph to {out_path}")
