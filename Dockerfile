# Multi-stage: dependencies resolved from uv.lock in a build stage, a slim non-root runtime.
# No compiler and no system ICU anywhere: every dependency is a wheel (PyICU's, pyicu-wheels,
# carries its own ICU), and the build refuses to compile one (`--no-build`).
FROM python:3.11-slim AS build
# pip and uv trust the image's CA bundle (uv would otherwise use its own copy of Mozilla's roots),
# so a build behind a proxy with its own root, added to the image's bundle, reaches the index.
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
# uv in a folder of its own, not into the image's Python: `--target` works the same where pip
# may install system-wide (python:3.11-slim) and where it refuses to (PEP 668: a Debian python3).
RUN python3 -m pip install --no-cache-dir --disable-pip-version-check --target /opt/uv uv
ENV PATH=/opt/uv/bin:$PATH
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
# The image's own python3 (/usr/local/bin on python:3.11-slim, /usr/bin on Debian's).
RUN uv sync --frozen --no-dev --no-install-project --no-build --python python3
COPY alembic.ini ./
COPY alembic ./alembic
# app/components/codelist-select.js is a link into clients/js: the one source of the module
COPY clients/js ./clients/js
COPY app ./app
COPY seed ./seed
# The project itself (pure Python, built by hatchling), then its own modules compiled once:
# the runtime user cannot write next to them.
RUN uv sync --frozen --no-dev --python python3 && .venv/bin/python -m compileall -q app alembic

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 codelists && mkdir /data && chown codelists /data
WORKDIR /app
# Owned by root: the service reads its code, migrations and seed, and writes only to /data.
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    DATABASE_URL=sqlite+aiosqlite:////data/codelists.db \
    CODELISTS_SECRET_KEY_FILE=/data/codelists.key \
    PYTHONUNBUFFERED=1
USER codelists
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)" || exit 1
# Migrates, then serves. Load the seed once with: docker run ... codelists seed
CMD ["codelists", "serve", "--host", "0.0.0.0", "--port", "8000"]
