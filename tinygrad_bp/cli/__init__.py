"""The ``tinygrad-bp`` command: parsing and dispatch (main.py), the commands that show a
graph (graphs.py), ``train`` (train.py), formulas and user files as the command reads them."""

from .command import main

__all__ = ["main"]
