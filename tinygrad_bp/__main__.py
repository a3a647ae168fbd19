"""``python -m tinygrad_bp`` is the ``tinygrad-bp`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
