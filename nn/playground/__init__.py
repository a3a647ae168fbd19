"""The playground: watch a network learn on the real engine, and change it while it learns.

``Settings`` (settings.py) are a run's data, network and training, bounded
and kept in a URL's hash; ``Session`` (session.py) is the run itself, with
the snapshots a page draws; ``page.py`` writes the page, live (served by
``tinygrad-bp play``) or recorded (``record``: one self-contained file, or
inline in Jupyter with ``playground``).

>>> from nn.playground import playground
>>> view = playground(dataset="circles", points=40, steps=10, frames=2)
>>> view  # in Jupyter: the page, inline  # doctest: +SKIP
"""

from .page import Playground, playground, record
from .session import PlaygroundLoss, Session
from .settings import Settings, SettingsError

__all__ = [
    "Playground",
    "PlaygroundLoss",
    "Session",
    "Settings",
    "SettingsError",
    "playground",
    "record",
]
