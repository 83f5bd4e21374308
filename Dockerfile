# Bastion's container image for CI systems that prefer one:
#   docker build -t bastion .
#   docker run --rm -v "$PWD:/src" bastion scan /src --format sarif -o /src/bastion.sarif
# Non-root, the base pinned by digest (python:3.11-slim-bookworm), Bastion in a virtual
# environment built in a separate stage so no compiler or pip cache reaches the final image.
# EXTRAS names optional extras of Bastion; their dependencies must be in the locked set.

FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba AS build
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /build
COPY requirements/run.txt ./requirements/run.txt
COPY pyproject.toml README.md ./
COPY src ./src
# The locked set first (exact versions with hashes), then Bastion itself without resolving again.
# bastion: ignore[iac.docker.pip-pinned] every dependency comes from requirements/run.txt with hashes; "." is this checkout
RUN python -m venv /opt/bastion \
    && /opt/bastion/bin/pip install --no-cache-dir --require-hashes -r requirements/run.txt \
    && /opt/bastion/bin/pip install --no-cache-dir --no-deps ".${EXTRAS:+[$EXTRAS]}" \
    && /opt/bastion/bin/bastion --version

FROM python:3.11-slim-bookworm@sha256:b18992999dbe963a45a8a4da40ac2b1975be1a776d939d098c647482bcad5cba
LABEL org.opencontainers.image.title="Bastion" \
      org.opencontainers.image.description="DevSecOps platform: secrets, dependencies, code, infrastructure, gated in one command" \
      org.opencontainers.image.licenses="Apache-2.0"
# git: the secrets scanner reads history (--git-history, --staged); nothing else is installed.
# bastion: ignore[iac.docker.apt-pinned] Debian rotates exact package versions out of its archive; the base digest pins the release
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 bastion \
    && useradd --uid 10001 --gid bastion --create-home --shell /usr/sbin/nologin bastion \
    && git config --system --add safe.directory '*'
COPY --from=build /opt/bastion /opt/bastion
ENV PATH="/opt/bastion/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /src
# A command-line tool, not a service: nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["bastion"]
CMD ["--help"]
