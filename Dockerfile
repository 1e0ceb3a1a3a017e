# SNS Team Bot — slim image, non-root, health-checked. Build: docker build -t sns-team-bot .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SNS_BOT_CONFIG=/etc/sns-bot/config.toml

WORKDIR /app

# Dependencies first (cached layer), then the code.
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/__init__.py
RUN pip install --no-compile . && pip uninstall -y sns-team-bot

COPY bot bot
COPY migrations migrations
RUN pip install --no-compile --no-deps . \
    && useradd --system --uid 10001 --home-dir /var/lib/sns-bot --create-home sns-bot

USER 10001
WORKDIR /var/lib/sns-bot
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4); sys.exit(0)"]

CMD ["sns-bot", "run"]
