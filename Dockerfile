# The trygg image: `pip install .` gives the `trygg` command with its templates and example
# agreements as package data. docker-compose.yml runs every service from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (the yearly report as PDF) lays out with pango and embeds the DejaVu fonts.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY workflow ./workflow
COPY tasks ./tasks
COPY web ./web
COPY config ./config
COPY templates ./templates
RUN pip install . && rm -rf /src

# An unprivileged user; agreements to load are mounted at /srv/trygg/agreements.
RUN useradd --create-home --home-dir /srv/trygg trygg
USER trygg
WORKDIR /srv/trygg
ENV TRYGG_MAIL_DIR=/srv/trygg/var/mail

CMD ["trygg", "health"]
