"""nn: neurons, layers, MLPs and losses built on tinygrad_bp Values.

>>> from nn import MLP
>>> MLP(2, [16, 16, 1])
MLP(2, [16, 16, 1], activation='relu', output_activation='linear')
"""

from .losses import half_squared_error, half_squared_errors
from .module import ACTIVATIONS, MLP, Layer, Module, Neuron

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Layer",
    "Module",
    "Neuron",
    "half_squared_error",
    "half_squared_errors",
]
