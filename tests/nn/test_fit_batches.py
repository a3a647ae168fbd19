"""Minibatch training on the digits: the accuracy rises, and traced equals interpreted."""

from __future__ import annotations

import pytest
from closeness import assert_close

from nn import (
    MLP,
    SGD,
    Adam,
    SoftmaxLoss,
    accuracy,
    evaluate,
    fit_batches,
    load_digits,
    train_test_split,
)
from nn.data import Split
from nn.train import TrainingInterrupted, argmax


@pytest.fixture(scope="module")
def digits() -> Split:
    return train_test_split(*load_digits())


def test_a_short_run_learns_the_digits(digits: Split) -> None:
    X_train, y_train, X_test, y_test = digits
    model = MLP(64, [16, 10], seed=0)
    before = evaluate(model, X_test, y_test)
    history = fit_batches(model, X_train, y_train, epochs=3, test=(X_test, y_test))
    assert history.updates == 3 * 43 and history.traced
    assert before[1] < 0.2  # chance, about 1 in 10
    assert history.test_accuracies[0] > 0.5
    assert history.test_accuracies[-1] > history.test_accuracies[0]
    assert history.test_accuracies[-1] > 0.8  # 0.847 here
    assert history.test_losses[-1] < history.test_losses[0] < before[0]
    assert history.train_losses[-1] < history.train_losses[0]
    # The engine's numbers, to 1e-12: the training ran over each batch at once
    assert_close(
        evaluate(model, X_test, y_test), (history.test_losses[-1], history.test_accuracies[-1])
    )


def test_traced_and_interpreted_runs_are_the_same_to_the_bit(digits: Split) -> None:
    X_train, y_train, X_test, y_test = digits
    runs = []
    for trace, batched in ((True, False), (False, False), (True, True)):
        model = MLP(64, [8, 10], seed=3)
        history = fit_batches(
            model,
            X_train[:100],
            y_train[:100],
            epochs=2,
            batch_size=16,
            optimizer=SGD(model.parameters(), lr=0.1),
            test=(X_test[:50], y_test[:50]),
            trace=trace,
            batched=batched,
            seed=5,
        )
        assert history.traced is trace
        runs.append(
            (history.train_losses, history.test_losses, [p.data for p in model.parameters()])
        )
    assert runs[0] == runs[1]  # point by point: to the bit
    assert_close(runs[2], runs[1])  # over each batch at once: to 1e-12


def test_the_gradients_are_left_as_they_were_by_evaluate() -> None:
    model = MLP(2, [3], seed=0)
    for k, p in enumerate(model.parameters()):
        p.grad = float(k)
    evaluate(model, [[0.5, 1.0], [1.0, -1.0]], [2, 0])
    assert [p.grad for p in model.parameters()] == [float(k) for k in range(9)]


def test_refusals() -> None:
    model = MLP(2, [3], seed=0)
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        fit_batches(model, [[0.0, 1.0]], [0], batch_size=0)
    with pytest.raises(ValueError, match="labels must be class indices"):
        fit_batches(model, [[0.0, 1.0]], [-1])
    with pytest.raises(ValueError, match="one output per class"):
        fit_batches(MLP(2, [1], seed=0), [[0.0, 1.0]], [0], trace=False)
    with pytest.raises(ValueError, match=r"targets\[0\] must be a class index in 0\.\.2, got 3"):
        fit_batches(model, [[0.0, 1.0]], [3], trace=False)
    with pytest.raises(ValueError, match=r"the class must be one of 0\.\.2, got 3\.0"):
        fit_batches(model, [[0.0, 1.0]], [3])  # traced: the op's rule says it


def test_accuracy_of_class_scores_is_by_argmax() -> None:
    assert accuracy([[0.1, 0.9], [2.0, -1.0], [0.0, 0.0]], [1, 1, 0]) == pytest.approx(2 / 3)
    assert argmax([1.0, 3.0, 3.0]) == 1 and argmax([float("nan"), 0.0]) == 1
    assert SoftmaxLoss().alpha == 1e-4


def test_ctrl_c_between_updates(digits: Split, monkeypatch: pytest.MonkeyPatch) -> None:
    from nn import _util

    X_train, y_train, *_ = digits
    model = MLP(64, [4, 10], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    calls = 0
    step = optimizer.step

    def step_then_ctrl_c() -> None:
        nonlocal calls
        step()
        calls += 1
        if calls == 3:
            _util.request_stop()

    monkeypatch.setattr(optimizer, "step", step_then_ctrl_c)
    with pytest.raises(TrainingInterrupted) as info:
        fit_batches(model, X_train[:64], y_train[:64], batch_size=8, optimizer=optimizer)
    assert info.value.updates == 3
