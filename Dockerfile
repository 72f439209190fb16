# Multi-stage: dependencies resolved from uv.lock in a build stage, a slim non-root runtime.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
# PyICU (Danish collation, CLDR da) is built against Debian's ICU.
RUN apt-get update && apt-get install -y --no-install-recommends libicu-dev pkg-config g++ \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY alembic ./alembic
# app/components/codelist-select.js is a link into clients/js: the one source of the module
COPY clients/js ./clients/js
COPY app ./app
COPY seed ./seed
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libicu72 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 codelists && mkdir /data && chown codelists /data
WORKDIR /app
COPY --from=build --chown=codelists /app /app
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
