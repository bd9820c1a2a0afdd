"""``python -m imitlab.cli``: the ``imitlab`` command."""

import sys

from imitlab.cli import main

sys.exit(main())
