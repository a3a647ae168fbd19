"""The engine's fast paths give exactly what the plain mechanism gives.

Every op result keeps its edges in the layout its number of parents calls
for; weighted_sums makes a layer's nets at once; backward skips zero
gradients through fused nodes. None of that may change a single number.
"""

from __future__ import annotations

import gc
import math
import random
import tracemalloc
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn import MLP
from tinygrad_bp import Value, grad, no_grad, op, total, weighted_sum
from tinygrad_bp.graph import topological_order
from tinygrad_bp.ops import relu, sigmoid, tanh
from tinygrad_bp.sums import weighted_sums


def test_parents_and_local_grads_for_every_number_of_edges() -> None:
    a, b, c = Value(2.0, "a"), Value(3.0, "b"), Value(5.0, "c")
    assert (a.parents, a.local_grads) == ((), ())
    y = a.tanh()
    assert y.parents == (a,) and y.local_grads == (1.0 - math.tanh(2.0) ** 2,)
    assert ((a * b).parents, (a * b).local_grads) == ((a, b), (3.0, 2.0))
    assert ((2.0 * b).parents, (2.0 * b).local_grads) == ((b,), (2.0,))  # the constant: no edge
    assert ((b - 1).parents, (b - 1).local_grads) == ((b,), (1.0,))
    assert ((1 - b).parents, (1 - b).local_grads) == ((b,), (-1.0,))
    s = total([a, b, c])
    assert (s.parents, s.local_grads) == ((a, b, c), (1.0, 1.0, 1.0))
    s2 = total([a, 4.0, c])  # three arguments, two edges
    assert (s2.parents, s2.local_grads, s2.data) == ((a, c), (1.0, 1.0), 11.0)
    s1 = total([4.0, c, 1.0])
    assert (s1.parents, s1.local_grads) == ((c,), (1.0,))
    constant = total([1.0, 2.0])
    assert (constant.parents, constant.local_grads, constant.op) == ((), (), "Σ")
    constant.backward()  # an op of constants only is a leaf of its own graph
    assert constant.grad == 1.0


def test_weighted_sums_make_the_same_nodes_as_one_weighted_sum_per_neuron() -> None:
    rng = random.Random(5)
    weights = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(3)]
    biases = [Value(rng.uniform(-1, 1)) for _ in range(3)]
    hidden = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    floats = [rng.uniform(-1, 1) for _ in range(4)]
    mixed = [hidden[0], 0.5, hidden[2], 2]
    for x in (hidden, floats, mixed):
        together = weighted_sums(weights, x, biases)
        alone = [weighted_sum(w, x, b) for w, b in zip(weights, biases)]
        for t, a in zip(together, alone):
            assert (t.data, t.op, t.parents, t.local_grads) == (
                a.data,
                a.op,
                a.parents,
                a.local_grads,
            )
    # one input or none: nodes of two edges and of one
    for x in ([hidden[0]], [0.5], []):
        rows = [w[: len(x)] for w in weights]
        for t, b, w in zip(weighted_sums(rows, x, biases), biases, rows):
            a = weighted_sum(w, x, b)
            assert (t.data, t.parents, t.local_grads) == (a.data, a.parents, a.local_grads)
    # a constant weight or bias goes argument by argument, with the same result
    odd = weighted_sums([[0.5, *weights[0][1:]]], hidden, [1.0])[0]
    assert odd.parents == (*weights[0][1:], *hidden)
    assert odd.local_grads == (
        *(h.data for h in hidden[1:]),
        0.5,
        *(w.data for w in weights[0][1:]),
    )


def test_weighted_sums_with_an_activation_make_the_same_nodes_as_applying_it() -> None:
    rng = random.Random(8)
    weights = [tuple(Value(rng.uniform(-1, 1)) for _ in range(3)) for _ in range(4)]
    biases: list[Value | float] = [Value(rng.uniform(-1, 1)) for _ in range(3)] + [0.25]
    hidden = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    @op
    def cube(x: float) -> tuple[float, tuple[float]]:  # a user's op: checked
        return x**3, (3 * x**2,)

    labels = [(f"net_{j}", f"out_{j}") for j in range(4)]
    for activation in (relu, tanh, sigmoid, cube):
        for x in (hidden, [0.5, -1.5, 2.0], [hidden[0], 0.5, hidden[2]]):
            outs = weighted_sums(weights, x, biases, activation, labels)
            for out, w, b, (net_label, out_label) in zip(outs, weights, biases, labels):
                alone = activation(weighted_sum(w, x, b))
                net = out.parents[0]
                assert (out.op, out.data, out.local_grads, out.label) == (
                    alone.op,
                    alone.data,
                    alone.local_grads,
                    out_label,
                )
                assert (net.data, net.parents, net.local_grads, net.label) == (
                    alone.parents[0].data,
                    alone.parents[0].parents,
                    alone.parents[0].local_grads,
                    net_label,
                )
    # labels without an activation name the nets
    nets = weighted_sums(weights, hidden, biases, labels=labels)
    assert [n.label for n in nets] == ["net_0", "net_1", "net_2", "net_3"]
    with pytest.raises(ValueError, match="one pair of labels per row of weights, got 1 for 4"):
        weighted_sums(weights, hidden, biases, relu, labels[:1])
    with no_grad():
        quiet = weighted_sums(weights, hidden, biases, relu)
    assert all(v.parents == () for v in quiet)
    assert [v.data for v in quiet] == [v.data for v in weighted_sums(weights, hidden, biases, relu)]


def test_the_walk_handles_shared_groups_that_are_not_all_leaves() -> None:
    # Tied weights (a weight made by an op) in a row shared by many nets, and
    # one layer's outputs read by two layers: every group is shared, and some
    # of their members are reached along several paths.
    v = Value(0.3, "v")
    row = (v * 2.0, Value(-0.4, "w2"), v.tanh())
    other = (Value(0.7), Value(0.1), Value(-0.2))
    b = Value(0.05, "b")
    losses = []
    for x in ([0.5, -1.0, 0.25], [1.5, 0.5, -0.5]):
        h = weighted_sums([row, other], x, [b, v], relu)
        h2 = weighted_sums([row[:2], row[1:]], h, [b, b], tanh)
        y = weighted_sums([(*h2, *h)[:2]], h, [v])  # outputs as weights
        losses.append(total([*h2, *y, *h]))
    root = total(losses)
    order = topological_order(root)
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)
    for n in order:
        assert all(position[id(p)] < position[id(n)] for p in n.parents)
    leaves = [n for n in order if not n.parents]
    expected = grad(root, leaves)
    root.backward()
    assert [n.grad for n in leaves] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def layered_graph(seed: int, leaf_data: Sequence[float]) -> tuple[Value, list[Value]]:
    """A network-like graph in which every group of edges is shared.

    Rows of weights are tuples reused by many layer calls; some weights are
    made by ops (tied weights), some are outputs of earlier nets; inputs mix
    plain numbers, leaves and nets of different depths. The same seed and
    leaf data always build the same graph, so it can be rebuilt nudged.
    """
    rng = random.Random(seed)
    leaves = [Value(v, f"p{i}") for i, v in enumerate(leaf_data)]
    pool: list[Value] = list(leaves)
    activations = (None, tanh, sigmoid)

    def row(width: int) -> tuple[Value, ...]:
        return tuple(rng.choice(pool) for _ in range(width))

    width = rng.randrange(1, 4)
    rows = [row(width) for _ in range(rng.randrange(1, 4))]
    rows.append((leaves[0] * 0.5, *row(width - 1)))  # a tied weight: made by an op
    outputs: list[Value] = []
    for _ in range(rng.randrange(1, 4)):  # points
        x: list[Value | float] = [rng.uniform(-1, 1) for _ in range(width)]
        for _ in range(rng.randrange(1, 4)):  # layers
            chosen = rng.sample(rows, rng.randrange(1, len(rows) + 1))
            biases = [rng.choice([*pool, 0.25]) for _ in chosen]
            h = weighted_sums(chosen, x, biases, rng.choice(activations))
            pool.extend(h)
            # the next layer reads these nets, or some of them mixed with
            # earlier nodes (a skip connection), padded to the width
            x = [rng.choice([*h, *h, rng.choice(pool)]) for _ in range(width)]
            if rng.random() < 0.3:
                rows.append(row(width))  # weights that are outputs of nets
        outputs.extend(x)  # type: ignore[arg-type]
    return total([*outputs, rng.choice(pool)]), leaves


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_shared_groups_backpropagate_like_central_differences(seed: int) -> None:
    data = [random.Random(seed).uniform(-1.5, 1.5) for _ in range(6)]
    root, leaves = layered_graph(seed, data)
    order = topological_order(root)
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)
    for n in order:
        assert all(position[id(p)] < position[id(n)] for p in n.parents)
    expected = grad(root, leaves)
    root.backward()
    assert [v.grad for v in leaves] == pytest.approx(expected, rel=1e-12, abs=1e-12)
    h = 1e-6
    for i in range(len(leaves)):
        up = layered_graph(seed, [d + h * (k == i) for k, d in enumerate(data)])[0].data
        down = layered_graph(seed, [d - h * (k == i) for k, d in enumerate(data)])[0].data
        assert leaves[i].grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6)


def test_weighted_sums_reject_wrong_lengths_and_foreign_objects() -> None:
    w = [[Value(1.0), Value(2.0)]]
    with pytest.raises(ValueError, match="one bias per row of weights, got 1 rows and 2 biases"):
        weighted_sums(w, [1.0, 2.0], [Value(0.0), Value(0.0)])
    with pytest.raises(ValueError, match="expected one weight per input, got 2 weights and 3"):
        weighted_sums(w, [1.0, 2.0, 3.0], [Value(0.0)])

    class Foreign:  # has .data like a Value, but is not one
        data = 1.0

    with pytest.raises(TypeError, match="expected a Value or a real number, got Foreign"):
        weighted_sums(w, [Foreign(), Value(1.0)], [Value(0.0)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got Foreign"):
        weighted_sum([Value(1.0)], [Foreign()], Value(0.0))  # type: ignore[list-item]
    with pytest.raises(TypeError, match="got Foreign"):
        Value(1.0) * Foreign()  # type: ignore[operator]


def test_a_subclass_of_value_is_still_a_value_in_every_path() -> None:
    class Named(Value):
        __slots__ = ()

    a, b, c = Named(2.0), Named(3.0), Named(4.0)
    assert (a * b).parents == (a, b)
    assert a.exp().parents == (a,)
    assert total([a, b, 1.0, c]).parents == (a, b, c)
    net = weighted_sums([[a, b]], [c, 1.0], [Value(0.5)])[0]
    assert net.parents == (a, b, c, net.parents[-1]) and net.data == 2 * 4 + 3 + 0.5


def test_no_grad_records_nothing_on_any_path() -> None:
    a, b = Value(1.5), Value(-2.0)
    with no_grad():
        made = [
            a * b,
            a.sigmoid(),
            total([a, b, a]),
            weighted_sum([a, b], [b, 3.0], a),
            *weighted_sums([[a, b]], [a, b], [b]),
            *weighted_sums([[a, b]], [0.5, 0.25], [b]),
        ]
    assert all(v.parents == () and v.local_grads == () and v.op == "" for v in made)
    assert made[0].data == -3.0 and made[-1].data == 1.5 * 0.5 - 2.0 * 0.25 - 2.0


def test_zero_gradient_is_skipped_only_where_it_changes_nothing() -> None:
    # A fused node whose gradient is 0 passes nothing back ...
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    dead = total([a, b, c]).relu() * 0.0
    dead.backward()
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)
    assert math.copysign(1.0, a.grad) == 1.0  # not even a -0.0

    # ... unless a local derivative is infinite: 0·inf is NaN, as without the skip.
    @op
    def spiky(x: float, y: float, z: float) -> tuple[float, tuple[float, float, float]]:
        return x + y + z, (math.inf, 1.0, 1.0)

    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    (spiky(x, y, z) * 0.0).backward()
    assert math.isnan(x.grad) and (y.grad, z.grad) == (0.0, 0.0)

    # A net with an infinite weight (its input's local derivative) is itself
    # infinite, so it is not skipped either: 0·inf reaches the input as NaN.
    w, b = (Value(math.inf), Value(1.0)), Value(0.0)
    inputs = [Value(0.5), Value(-2.0)]
    net = weighted_sums([w], inputs, [b])[0]
    (net * 0.0).backward()
    assert math.isnan(inputs[0].grad) and inputs[1].grad == 0.0
    assert (w[0].grad, w[1].grad, b.grad) == (0.0, 0.0, 0.0)
    # and a finite net behind a dead ReLU passes back nothing, not even -0.0
    w, b = (Value(-1.0), Value(2.0)), Value(-5.0)
    xs = [Value(1.0), Value(1.0)]
    dead_net = weighted_sums([w], xs, [b], relu)[0]
    dead_net.backward()
    assert [math.copysign(1.0, v.grad) for v in (*w, b, *xs)] == [1.0] * 5


def test_backward_twice_doubles_every_leaf_of_a_network_exactly() -> None:
    model = MLP(3, [6, 5, 1], seed=2)
    inputs = [[0.3, -0.8, 1.2], [1.0, 0.1, -0.4], [-0.9, 0.7, 0.2]]
    loss = total([(1.0 - model(x)).relu() for x in inputs])  # type: ignore[operator]
    loss.backward()
    first = [p.grad for p in model.parameters()]
    assert any(g != 0.0 for g in first)
    loss.backward()
    assert [p.grad for p in model.parameters()] == [2 * g for g in first]


def random_graph(rng: random.Random, size: int) -> tuple[Value, list[Value]]:
    leaves = [Value(rng.uniform(0.5, 1.5), f"x{i}") for i in range(4)]
    nodes: list[Value] = list(leaves)
    for _ in range(size):
        kind = rng.randrange(7)
        p, q = rng.choice(nodes), rng.choice(nodes)
        if kind == 0:
            v = p * q
        elif kind == 1:
            v = p + q
        elif kind == 2:
            v = (p * 0.5).tanh()
        elif kind == 3:
            v = total([p, q, rng.choice(nodes), 0.25])
        elif kind == 4:
            v = weighted_sum([p, q], [rng.choice(nodes), 0.5], rng.choice(nodes))
        elif kind == 5:
            v = p.sigmoid() - q
        else:
            v = p * p
        nodes.append(v)
    return total(nodes[-3:]), leaves


def test_walk_and_backward_agree_with_independent_references_on_random_graphs() -> None:
    rng = random.Random(11)
    for _ in range(30):
        root, leaves = random_graph(rng, rng.randrange(1, 40))
        order = topological_order(root)
        # each node once, after all its parents, and every node reachable
        position = {id(n): i for i, n in enumerate(order)}
        assert len(position) == len(order) and order[-1] is root
        for n in order:
            assert all(position[id(p)] < position[id(n)] for p in n.parents)
        reachable, stack = {id(root)}, [root]
        while stack:
            for p in stack.pop().parents:
                if id(p) not in reachable:
                    reachable.add(id(p))
                    stack.append(p)
        assert reachable == set(position)
        assert topological_order(root, leaves=False) == [n for n in order if n.parents]
        # backward() against grad() (a dictionary walk) and central differences
        expected = grad(root, leaves)
        root.backward()
        assert [v.grad for v in leaves] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        for v, g in zip(leaves, expected):
            h = 1e-6
            v.data += h
            up = rebuild(root)
            v.data -= 2 * h
            down = rebuild(root)
            v.data += h
            assert g == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)


def rebuild(root: Value) -> float:
    """root's value recomputed from its leaves' current data, by the recorded ops."""
    values: dict[int, float] = {}
    for n in topological_order(root):
        if not n.parents:
            values[id(n)] = n.data
            continue
        ps = [values[id(p)] for p in n.parents]
        if n.op == "*":
            values[id(n)] = ps[0] * (ps[1] if len(ps) > 1 else n.local_grads[0])
        elif n.op == "+":
            values[id(n)] = ps[0] + ps[1]
        elif n.op == "-":
            values[id(n)] = ps[0] - ps[1]
        elif n.op == "tanh":
            values[id(n)] = math.tanh(ps[0])
        elif n.op == "sigmoid":
            values[id(n)] = 1 / (1 + math.exp(-ps[0]))
        elif n.op == "Σ":
            values[id(n)] = sum(ps) + 0.25  # random_graph's constant, which has no edge
        elif n.op == "Σwx+b":
            # w1, w2 (edges), x1 (edge), the constant 0.5, b (edge): [w1, w2, x1, b]
            w1, w2, x1, b = ps
            values[id(n)] = w1 * x1 + w2 * 0.5 + b
        else:  # pragma: no cover - random_graph makes no other op
            raise AssertionError(n.op)
    return values[id(root)]


def test_a_node_of_two_values_takes_at_most_224_bytes() -> None:
    # The node (6 fields), its value, and two tuples of two: the parents and the
    # local derivatives (micrograd's node takes 688).
    x, y = Value(0.25), Value(0.5)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10_000):
            y = y * x
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used / 10_000 <= 224
    assert y.parents is y.args  # every argument a Value: one tuple for both
    assert y.parents[1] is x


def test_a_users_op_is_checked_on_every_path() -> None:
    @op
    def loose(x: float, y: float, z: float) -> tuple[int, list[int]]:
        return 7, [1, 2, 3]  # ints and a list: accepted, and made floats

    v = loose(Value(1.0), 2, Value(3.0))  # the constant 2 gets no edge
    assert (v.data, v.local_grads) == (7.0, (1.0, 3.0))
    assert type(v.data) is float and all(type(d) is float for d in v.local_grads)

    @op
    def short(x: float, y: float) -> tuple[float, tuple[float]]:
        return x * y, (y,)

    with pytest.raises(
        TypeError, match=r"op 'short' must return .*one local derivative per input \(2\)"
    ):
        short(Value(1.0), Value(2.0))

    @op
    def word(x: float) -> tuple[str, tuple[float]]:
        return "x", (1.0,)

    with pytest.raises(TypeError, match="op 'word' returned a non-numeric value 'x'"):
        word(Value(1.0))

    @op
    def odd_local(x: float, y: float, z: float) -> tuple[float, tuple[object, ...]]:
        return 1.0, (1.0, "a", 1.0)

    with pytest.raises(TypeError, match="non-numeric local derivative 'a' for input 1"):
        odd_local(Value(1.0), Value(2.0), Value(3.0))

    @op
    def bare(x: float) -> float:
        return x

    with pytest.raises(TypeError, match=r"op 'bare' must return \(value, local_derivatives\)"):
        bare(Value(1.0))  # type: ignore[arg-type]
