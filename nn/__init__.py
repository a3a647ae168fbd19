"""nn: neurons, layers, MLPs and losses built on tinygrad_bp Values.

>>> from nn import MLP
>>> MLP(2, [16, 16, 1])
MLP(2, [16, 16, 1], activation='relu', output_activation='linear')
"""

from .data import (
    DataFileError,
    load_digits,
    make_circles,
    make_gauss,
    make_moons,
    make_spirals,
    make_xor,
    read_csv,
    train_test_split,
    with_features,
)
from .losses import (
    binary_cross_entropy_with_logits,
    half_squared_error,
    half_squared_errors,
    hinge,
    l2,
    mse,
    softmax_cross_entropy,
    softmax_cross_entropy_term,
)
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron
from .optim import SGD, Adam, Optimizer
from .serialize import ModelFileError, load, load_into, save
from .train import ExampleLoss, SoftmaxLoss, accuracy, evaluate, fit, fit_batches, svm_loss

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "half_squared_error",
    "half_squared_errors",
    "mse",
    "hinge",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "softmax_cross_entropy_term",
    "l2",
    "SGD",
    "Adam",
    "Optimizer",
    "make_moons",
    "make_xor",
    "make_spirals",
    "make_circles",
    "make_gauss",
    "with_features",
    "load_digits",
    "train_test_split",
    "read_csv",
    "DataFileError",
    "save",
    "load",
    "load_into",
    "ModelFileError",
    "fit",
    "ExampleLoss",
    "svm_loss",
    "SoftmaxLoss",
    "fit_batches",
    "evaluate",
    "accuracy",
]
