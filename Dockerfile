# syntax=docker/dockerfile:1
# ADO's container image: `ado serve` (API + dashboard) and `ado worker`, one image.
#
#   docker build -t ado .                           the runtime, no agent CLIs (target runtime)
#   docker build -t ado:agents --target agents .    plus the agent CLIs from npm, pinned by
#                                                   tests/agents-package.json (the versions the
#                                                   test suite runs)
#
# Stages: `dashboard` builds the web dashboard (vite), `wheel` builds ADO's wheel with that
# dashboard inside plus every dependency's wheel and installs them into /opt/ado (slimmed by
# deploy/docker/slim_venv.py), `runtime` copies /opt/ado onto a slim Python, run by a non-root
# user. docs/deployment.md explains the settings; tests/deploy/ lint this file (hadolint),
# build the wheel and the environment as these stages do and run `ado serve` from it without
# Docker, and hold the image to its size budget (docs/performance.md, "Image size").

ARG PYTHON_IMAGE=python:3.12-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# -- the dashboard ------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS dashboard
WORKDIR /build/dashboard
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY dashboard/ ./
# The API client (src/api/schema.ts) is generated and committed by scripts/build_dashboard;
# this stage only bundles.
RUN npx --no-install vite build --outDir /build/dist --emptyOutDir --logLevel warn

# -- the wheels and the environment -------------------------------------------------------
FROM ${PYTHON_IMAGE} AS wheel
# binutils' strip for slim_venv.py (this stage only; unpinned as in the agents stage).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --yes --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src/ src/
COPY --from=dashboard /build/dist/ src/ado/dashboard/dist/
# ADO's wheel, then the wheels of its production dependencies (PostgreSQL driver and the
# Celery executor included; an extra this ADO lacks is skipped with a warning).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && pip wheel --no-cache-dir --wheel-dir /wheels "$(ls /wheels/ado-*.whl)[postgresql,celery]"
# The environment the runtime copies: installed from those wheels alone, without pip, then
# slimmed (the extensions' debugging information and the third-party sources go; the
# bytecode stays: start-up reads it as before).
COPY deploy/docker/slim_venv.py /build/
RUN python -m venv /opt/ado \
    && /opt/ado/bin/pip install --no-cache-dir --no-index --find-links /wheels \
       "$(ls /wheels/ado-*.whl)[postgresql,celery]" \
    && /opt/ado/bin/pip uninstall --yes pip \
    && /opt/ado/bin/python /build/slim_venv.py /opt/ado \
    && /opt/ado/bin/ado --version

# -- the runtime --------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/ado/bin:$PATH \
    HOME=/home/ado \
    ADO_DB_UPGRADE=1
RUN groupadd --system --gid 10001 ado \
    && useradd --system --uid 10001 --gid ado --home-dir /home/ado --create-home --shell /usr/sbin/nologin ado \
    && install -d -o ado -g ado /workspace /etc/ado
# The official base deletes its standard library's bytecode, and PYTHONDONTWRITEBYTECODE
# keeps every process from writing it back: compiled once here, or each `ado` process
# compiles the ~190 standard modules it imports again (about a second). ~11 MB.
RUN python -m compileall -q -j 0 -x '/(idlelib|tkinter|turtledemo|lib2to3|ensurepip|pydoc_data)/' \
    "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"
# The same base image as the wheel stage, so the environment's interpreter link holds.
COPY --from=wheel /opt/ado /opt/ado
COPY --chmod=0755 deploy/docker/entrypoint.sh /usr/local/bin/ado-entrypoint
USER 10001:10001
# The project the agents work on (mount a volume or a checkout here); `.ado/state.db` lives
# here too when no database URL is set.
WORKDIR /workspace
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status != 200)"]
ENTRYPOINT ["ado-entrypoint"]
# Bound off loopback, every API request needs a token: `ado tokens create NAME` in the
# container (docs/deployment.md, "Tokens").
CMD ["ado", "serve", "--host", "0.0.0.0", "--port", "8080", "--no-open"]

# -- the runtime with the agent CLIs ------------------------------------------------------
FROM runtime AS agents
USER 0
# Node.js from the dashboard's Node image (Debian's is too old for gemini-cli, which needs
# 20+); git and CA certificates from Debian (unpinned: the base image's release fixes them,
# and security updates replace any exact version). The agents' versions are pinned by
# tests/agents-package.json, the ones the test suite runs.
COPY --from=dashboard /usr/local/bin/node /usr/local/bin/node
COPY --from=dashboard /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
# hadolint ignore=DL3008
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && apt-get update \
    && apt-get install --yes --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY tests/agents-package.json /opt/agents/package.json
RUN npm install --prefix /opt/agents --omit=dev --no-audit --no-fund --loglevel=error \
    && npm cache clean --force \
    && node --version
ENV PATH=/opt/agents/node_modules/.bin:$PATH
USER 10001:10001

# The default target is the slim runtime.
FROM runtime
