"""``python -m rlkit.sweep --suite quick``: ``rlkit bench`` without the ``rlkit`` command."""

from __future__ import annotations

import sys

from rlkit.sweep.cli import main

if __name__ == "__main__":
    sys.exit(main())
