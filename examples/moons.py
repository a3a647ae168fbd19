"""micrograd's demo with tinygrad_bp: a 2-16-16-1 MLP learns the two moons.

Run: python examples/moons.py [steps] [seed]
"""

import sys

from nn import MLP, SGD, accuracy, hinge, l2, make_moons

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0

X, y = make_moons(100, noise=0.1, seed=seed, signed=True)  # labels -1 / +1
model = MLP(2, [16, 16, 1], seed=seed)  # ReLU hidden layers, a linear score out
opt = SGD(model.parameters(), lr=1.0)

for k in range(steps):
    scores = [model(x) for x in X]
    # The max-margin loss, mean(relu(1 - y·score)), plus a little L2 regularisation.
    loss = hinge(scores, y) + 1e-4 * l2(model.parameters())
    acc = accuracy(scores, y)
    opt.zero_grad()
    loss.backward()
    opt.lr = 1.0 - 0.9 * k / steps  # from 1.0 down towards 0.1
    opt.step()
    if k % 10 == 0:
        print(f"step {k:3d}  loss {loss.data:.4f}  accuracy {acc:.0%}")

scores = [model(x) for x in X]
loss = hinge(scores, y) + 1e-4 * l2(model.parameters())
print(f"final loss {loss.data:.6f} accuracy {accuracy(scores, y):.0%}")
