# chatapp: one image, one start script (python -m chatapp.server.serve --no-build), one port.
#
#   docker build -t chatapp --build-arg PUBLIC_URL=https://chat.example.com .
#
# PUBLIC_URL is baked into the frontend bundle as the websocket address. The default
# (https://localhost) works for ANY host served over HTTPS on port 443, because Reflex's client swaps
# a `localhost` backend host for the page's host and drops the port on https. Set it when the app is
# served elsewhere (another port, plain http, or a path).
#
# PYTHON_IMAGE: any Debian bookworm image with Python 3.11 and venv: the default from Docker Hub, or
# one made without Docker Hub by `scripts/docker_base.sh` (debootstrap; python at /usr/bin/python3).
# Only plain Dockerfile instructions: the classic builder (DOCKER_BUILDKIT=0) builds it too.
# Certificates in deploy/ca/*.crt (e.g. a TLS proxy's CA) are trusted by apt, pip, npm and bun while
# building, and by the app at run time.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: Python deps, bun (from npm), and the compiled frontend ---------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_PROGRESS_BAR=off \
    PYTHONDONTWRITEBYTECODE=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    TELEMETRY_ENABLED=false \
    DEBIAN_FRONTEND=noninteractive
# The system bundle (Mozilla's CAs + deploy/ca/*.crt) for every client: pip and httpx would use
# certifi, node and bun their built-in list.
COPY deploy/ca/ /usr/local/share/ca-certificates/chatapp/
RUN update-ca-certificates >/dev/null
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# npm only installs bun (Reflex builds with bun; Debian's node is too old for Reflex's npm mode).
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends npm >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
RUN npm install --no-audit --no-fund --prefix /app/.tools bun@1.4.4
# `python3`: the Docker Hub image has python at /usr/local/bin, a Debian base at /usr/bin.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:/app/.tools/node_modules/.bin:$PATH
# Dependencies first (cached until the lock changes): pinned, runtime only.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml rxconfig.py ./
COPY reflex.lock ./reflex.lock
COPY assets ./assets
COPY chatapp ./chatapp
ARG PUBLIC_URL=https://localhost
RUN PUBLIC_URL="${PUBLIC_URL}" python -m chatapp.server.serve --build-only \
 && test -f .web/build/client/index.html
# The runtime installs nothing: no pip or setuptools in its venv (~23 MB).
RUN python -m pip uninstall -y -q pip setuptools

# ---- runtime: the venv, the app code and the static build; no bun, npm or compilers ----------------
FROM ${PYTHON_IMAGE} AS runtime
COPY deploy/ca/ /usr/local/share/ca-certificates/chatapp/
RUN update-ca-certificates >/dev/null \
 && useradd --no-log-init --no-create-home --home-dir /app --shell /usr/sbin/nologin --uid 10001 --user-group chatapp
# Only /app/data (the volume: SQLite, uploads) is written at run time; the rest may be read-only
# (`docker run --read-only`, with a tmpfs on /tmp for the metrics of several workers).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REFLEX_TELEMETRY_ENABLED=false \
    TELEMETRY_ENABLED=false \
    REFLEX_UPLOADED_FILES_DIR=/app/data/uploaded_files \
    CHATAPP_ENV=prod \
    CHATAPP_DATA_DIR=/app/data \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY pyproject.toml rxconfig.py ./
COPY assets ./assets
COPY chatapp ./chatapp
COPY --from=build /app/.web/build/client ./.web/build/client
# Reflex rewrites small markers (stateful_pages.json, upload_is_used) in <web dir>/backend at every
# worker start: that folder is /tmp (the image's, or a tmpfs with --read-only), the build stays
# read-only.
RUN mkdir -p /app/data && chown chatapp:chatapp /app/data && ln -s /tmp /app/.web/backend
USER chatapp
EXPOSE 8000
VOLUME ["/app/data"]
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/api/health' % os.environ.get('PORT','8000'), timeout=4).status == 200 else 1)"]
# Migrates (alembic upgrade head), then serves UI + websocket + API on $PORT with $WEB_CONCURRENCY
# workers (more than 1 needs REDIS_URL).
CMD ["python", "-m", "chatapp.server.serve", "--no-build"]
