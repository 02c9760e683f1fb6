# syntax=docker/dockerfile:1
# chatapp: one image, one start script (python -m chatapp.server.serve --no-build), one port.
#
#   docker build -t chatapp --build-arg PUBLIC_URL=https://chat.example.com .
#
# PUBLIC_URL is baked into the frontend bundle as the websocket address. The default
# (https://localhost) works for ANY host served over HTTPS on port 443, because Reflex's client swaps
# a `localhost` backend host for the page's host and drops the port on https. Set it when the app is
# served elsewhere (another port, plain http, or a path).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: Python deps, bun (from npm), and the compiled frontend ---------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    TELEMETRY_ENABLED=false
# npm only installs bun (Reflex builds with bun; Debian's node is too old for Reflex's npm mode).
RUN apt-get update \
 && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:/app/.tools/node_modules/.bin:$PATH
# Dependencies first (cached until the lock changes): pinned, runtime only.
COPY requirements.lock ./
RUN pip install -r requirements.lock
RUN npm install --no-audit --no-fund --prefix /app/.tools bun@1.4.4
COPY pyproject.toml rxconfig.py ./
COPY reflex.lock ./reflex.lock
COPY assets ./assets
COPY chatapp ./chatapp
ARG PUBLIC_URL=https://localhost
RUN PUBLIC_URL="${PUBLIC_URL}" python -m chatapp.server.serve --build-only \
 && test -f .web/build/client/index.html

# ---- runtime: the venv, the app code and the static build; no bun, npm or compilers ----------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    TELEMETRY_ENABLED=false \
    CHATAPP_ENV=prod \
    CHATAPP_DATA_DIR=/app/data \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=8000
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin chatapp
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY pyproject.toml rxconfig.py ./
COPY assets ./assets
COPY chatapp ./chatapp
COPY --from=build /app/.web/build/client ./.web/build/client
# Only data/ (SQLite, uploads) and .web/ (Reflex writes small runtime files there) are writable.
RUN mkdir -p /app/data && chown -R chatapp:chatapp /app/data /app/.web
USER chatapp
EXPOSE 8000
VOLUME ["/app/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('PORT','8000'), timeout=4).status == 200 else 1)"]
# Migrates (alembic upgrade head), then serves UI + websocket + API on $PORT with $WEB_CONCURRENCY
# workers (more than 1 needs REDIS_URL).
CMD ["python", "-m", "chatapp.server.serve", "--no-build"]
