"""nn: neurons, layers, MLPs and losses built on tinygrad_bp Values.

>>> from nn import MLP
>>> MLP(2, [16, 16, 1])
MLP(2, [16, 16, 1], activation='relu', output_activation='linear')
"""

from .data import make_moons, make_spirals, make_xor
from .losses import (
    binary_cross_entropy_with_logits,
    half_squared_error,
    half_squared_errors,
    hinge,
    l2,
    mse,
    softmax_cross_entropy,
)
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron
from .optim import SGD, Adam, Optimizer
from .serialize import ModelFileError, load, load_into, save
from .train import ExampleLoss, accuracy, fit, svm_loss

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
    "l2",
    "SGD",
    "Adam",
    "Optimizer",
    "make_moons",
    "make_xor",
    "make_spirals",
    "save",
    "load",
    "load_into",
    "ModelFileError",
    "fit",
    "ExampleLoss",
    "svm_loss",
    "accuracy",
]
