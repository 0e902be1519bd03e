# The Glimpse services image: the API, the auxiliary services and the
# operational servers all run from it (`glimpse up --services NAME`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    no_proxy=127.0.0.1,localhost

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY pyproject.toml README.md ./
COPY glimpse ./glimpse
COPY api ./api
COPY auxiliar ./auxiliar
COPY operational_server ./operational_server
COPY collections ./collections
# Editable (compat) install: the seed files stay beside the package in /app.
RUN pip install --no-cache-dir --no-deps --no-build-isolation --config-settings editable_mode=compat -e . \
    && useradd --system --uid 10001 glimpse
USER glimpse

ENV GLIMPSE_API_HOST=0.0.0.0 GLIMPSE_API_PORT=5000
EXPOSE 5000
CMD ["glimpse", "up", "--services", "api"]
