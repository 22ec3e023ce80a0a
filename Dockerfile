# syntax=docker/dockerfile:1
# Inlet's image for docker-compose.yml: the API (`chalice local`, through local/api_server.py as
# `make dev` runs it), the queue pump, and the one-shot init and migration steps (target `app`);
# target `web` adds the built page for the web service. On AWS, Chalice packages app.py +
# chalicelib/ for Lambda instead; this image is for local stacks.
# tests/deploy/test_dockerfile.py replays the `app` stage where no builder can pull a base image.

# --- the web page: frontend/ built with node 20 (vite needs >= 20.19) ----------------------------
FROM node:20-slim AS frontend
WORKDIR /frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- the Python services ------------------------------------------------------------------------
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The Lambda runtime (requirements.txt, alembic included: `migrate`), plus Chalice for the local
# API server. Chalice is not a Lambda requirement (it packages its own runtime): its one pin is in
# requirements-dev.txt, and the build stops here, loudly, if that pin is gone.
COPY requirements.txt requirements-dev.txt ./
RUN chalice="$(grep -E '^chalice==' requirements-dev.txt)" \
    || { echo "requirements-dev.txt pins no chalice==<version>" >&2; exit 1; }; \
    pip install -r requirements.txt "$chalice"
COPY app.py alembic.ini ./
COPY .chalice/config.json .chalice/config.json
COPY chalicelib/ chalicelib/
COPY migrations/ migrations/
# The local runtime: API server wrapper, queue pump, resource setup, page publishing, admin.
COPY local/ local/
RUN useradd --create-home --uid 10001 inlet
USER inlet
EXPOSE 8000
CMD ["python", "-m", "local.api_server", "local", \
     "--no-autoreload", "--host", "0.0.0.0", "--port", "8000"]

# --- the web page on an origin of its own (python -m local.web serve) ---------------------------
FROM app AS web
COPY --from=frontend /frontend/dist frontend/dist
CMD ["python", "-m", "local.web", "serve", "--host", "0.0.0.0", "--port", "8080", \
     "--api-url", "http://localhost:8000"]
