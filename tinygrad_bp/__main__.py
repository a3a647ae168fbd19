"""``python -m tinygrad_bp`` is the ``tinygrad-bp`` command."""

from .cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
