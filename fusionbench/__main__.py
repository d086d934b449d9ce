"""``python -m fusionbench`` is the same as the ``fusionbench`` command."""

from .cli import main

main()
