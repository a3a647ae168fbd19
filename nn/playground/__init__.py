"""The playground: watch a network learn on the real engine, and change it while it learns.

``Settings`` (settings.py) are a run's data, network and training, bounded
and kept in a URL's hash; ``Session`` (session.py) is the run itself, with
the snapshots a page draws; ``page.py`` writes the page, live (served by
``tinygrad-bp play``) or recorded (``record``: one self-contained file, or
inline in Jupyter with ``playground``).
"""

from .session import PlaygroundLoss, Session
from .settings import Settings, SettingsError

__all__ = ["PlaygroundLoss", "Session", "Settings", "SettingsError"]
