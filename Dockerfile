# syntax=docker/dockerfile:1
#
# jira-server-sync: the Port Ocean integration as a container image.
#
#   docker build -t ghcr.io/your-org/port-ocean-jira-server-sync:0.1.0 .
#
# Name the image `port-ocean-<integration.type>` (here port-ocean-jira-server-sync): Port's
# port-ocean Helm chart pulls `<imageRegistry>/port-ocean-<integration.type>:<integration.version>`.
#
# tests/packaging/test_dockerfile_replay.py replays this file outside Docker (same pip
# command, same lock, same COPY list, same ENV, same ENTRYPOINT), so keep RUN steps plain
# POSIX sh and refer to paths through the ENV variables declared here.

ARG PYTHON_IMAGE=python:3.12.15-slim-bookworm

# --- builder: a virtualenv with exactly the runtime lock -------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV VIRTUAL_ENV=/opt/venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock ./
# --no-deps: requirements.lock pins every runtime package, and `pip check` proves it is
# complete. --only-binary: wheels only, so the slim image needs no compiler and nothing is
# built from an sdist at image-build time.
RUN python -m venv "${VIRTUAL_ENV}" \
    && "${VIRTUAL_ENV}/bin/pip" install --no-cache-dir --no-deps --only-binary=:all: --requirement requirements.lock \
    && "${VIRTUAL_ENV}/bin/pip" check

# --- runtime: the venv, the integration's own files, a non-root user -------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG SOURCE=https://github.com/your-org/jira-server-sync
ARG LICENSE=NOASSERTION
LABEL org.opencontainers.image.title="jira-server-sync" \
      org.opencontainers.image.description="Port Ocean integration that syncs a self-hosted Jira Server / Data Center into a software catalog" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSE}"

# A fixed UID/GID so Kubernetes' runAsNonRoot and volume permissions are predictable.
RUN groupadd --system --gid 10001 ocean \
    && useradd --system --uid 10001 --gid ocean --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ocean

ENV VIRTUAL_ENV=/opt/venv
# JQ mappings must not be able to read the credentials from the environment. The integration
# maps, reconciles and guards deletions itself: it runs only in port-ocean's ocean-core mode.
ENV PATH="${VIRTUAL_ENV}/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OCEAN__ALLOW_ENVIRONMENT_VARIABLES_JQ_ACCESS=false \
    OCEAN__PROCESSING_MODE=ocean-core

# The venv lives at the same path as in the builder: a virtualenv is not relocatable.
COPY --from=builder /opt/venv /opt/venv

# `ocean sail` reads pyproject.toml, .port/ and config.yaml from its working directory.
# Files stay root-owned: the integration reads them and writes only under /tmp.
WORKDIR /app
COPY pyproject.toml config.yaml integration.py main.py client.py ./
COPY jira_server/ ./jira_server/
COPY .port/ ./.port/

USER 10001:10001
EXPOSE 8000

# port-ocean serves GET /health/live (always 200 once the server is up) on port 8000, the
# `ocean sail` default. Kubernetes ignores HEALTHCHECK; it helps `docker run` / compose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]

ENTRYPOINT ["ocean", "sail"]
