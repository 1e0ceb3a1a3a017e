"""``python -m bot`` is ``sns-bot``."""

import sys

from bot.cli import main

sys.exit(main())
