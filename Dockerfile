# The trygg image: `pip install .` gives the `trygg` command with its templates and example
# agreements as package data. docker-compose.yml runs every service from it.
#
# BASE_IMAGE: the usual public Python image; CI (make compose-test) builds one of its own from
# Debian's packages. WHEELS=1 installs from the wheels in wheelhouse/ (built on the host with
# `pip wheel`), with no network; otherwise pip fetches the dependencies as usual.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (the yearly report as PDF) lays out with pango and embeds the DejaVu fonts.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY workflow ./workflow
COPY tasks ./tasks
COPY web ./web
COPY config ./config
COPY templates ./templates
COPY wheelhouse ./wheelhouse
ARG WHEELS=
RUN python3 -m venv /opt/trygg \
 && if [ -n "$WHEELS" ]; then /opt/trygg/bin/pip install --no-index --find-links wheelhouse trygg; \
    else /opt/trygg/bin/pip install .; fi \
 && rm -rf /src
ENV PATH=/opt/trygg/bin:$PATH

# An unprivileged user; agreements to load are mounted at /srv/trygg/agreements.
RUN useradd --create-home --home-dir /srv/trygg trygg
USER trygg
WORKDIR /srv/trygg
ENV TRYGG_MAIL_DIR=/srv/trygg/var/mail

CMD ["trygg", "health"]
