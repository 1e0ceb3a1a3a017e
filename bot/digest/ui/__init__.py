"""Digest rendering (pure), one module per surface.

A composed digest is first laid out as a :class:`~bot.digest.ui.document.DigestDoc` (``weekly``,
``monthly``); Slack (``message``) and the terminal (``text``) both render that one document, so
``--preview`` shows exactly what would be posted. ``attachments`` builds the monthly chart's series
and the CSV, ``wins`` the "share a win" modals, ``admin`` the admins' DMs about a digest.
"""
