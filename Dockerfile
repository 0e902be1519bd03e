# The Glimpse image: the API (serving the trader app at / and the manager app at /manager/),
# the auxiliary services and the operational servers all run from it
# (`glimpse up --services NAME`, `python -m operational_server`).
#
# Three stages:
#   apps   - Node builds apps/web and apps/manager (both import apps/shared by source);
#   wheel  - a normal (non-editable) wheel of the Python packages, seed data included;
#   final  - a slim Python image with the pinned requirements, the wheel and the built apps,
#            running as an unprivileged user, with a health check on /glimpse/health.

# ---------------------------------------------------------------- the apps
FROM node:22-bookworm-slim AS apps
WORKDIR /build/apps
# Manifests first, so the npm layers are cached until a lock file changes.
COPY apps/shared/package.json apps/shared/package-lock.json ./shared/
COPY apps/web/package.json apps/web/package-lock.json ./web/
COPY apps/manager/package.json apps/manager/package-lock.json ./manager/
RUN cd shared && npm ci --no-audit --no-fund \
    && cd ../web && npm ci --no-audit --no-fund \
    && cd ../manager && npm ci --no-audit --no-fund
COPY apps/shared ./shared
COPY apps/web ./web
COPY apps/manager ./manager
# The trader app's tests (type-checked by its build) read the signal-parser corpus from tests/.
COPY tests/fixtures/signals /build/tests/fixtures/signals
RUN cd web && npm run build && test -f dist/index.html \
    && cd ../manager && npm run build && test -f dist/index.html

# ---------------------------------------------------------------- the wheel
FROM python:3.11-slim AS wheel
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md requirements.txt ./
COPY glimpse ./glimpse
COPY api ./api
COPY auxiliar ./auxiliar
COPY operational_server ./operational_server
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------- the image
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    no_proxy=127.0.0.1,localhost

COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
COPY --from=wheel /wheels/ /tmp/wheels/
RUN pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/requirements.txt \
    && useradd --system --uid 10001 --home-dir /srv/glimpse --shell /usr/sbin/nologin glimpse

# The built apps: GLIMPSE_WEB_DIST for the trader app, GLIMPSE_MANAGER_DIST for the manager's.
COPY --from=apps --chown=root:root /build/apps/web/dist /srv/glimpse/apps/web/dist
COPY --from=apps --chown=root:root /build/apps/manager/dist /srv/glimpse/apps/manager/dist
WORKDIR /srv/glimpse
USER glimpse

ENV GLIMPSE_API_HOST=0.0.0.0 \
    GLIMPSE_API_PORT=5000 \
    GLIMPSE_WEB_DIST=/srv/glimpse/apps/web/dist \
    GLIMPSE_MANAGER_DIST=/srv/glimpse/apps/manager/dist \
    GLIMPSE_LOG_FORMAT=json
EXPOSE 5000

# /glimpse/health answers within a second, 503 when the database or a service is down.
# (Compose gives the non-API services a heartbeat check of their own.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:5000/glimpse/health', timeout=3).status == 200 else 1)"]

CMD ["glimpse", "up", "--services", "api"]
