"""What every feature stands on at run time: ``Deps`` (built once per process by the composition root)
and the ports a feature may call without knowing who answers (the App Home, the platform APIs).

Features import from here and below (``bot.slack``, ``bot.db``, ``bot.config``, the foundation), never
from ``bot.app`` and never from the feature that happens to implement a port.
"""
