# syntax=docker/dockerfile:1
# Inlet's image for docker-compose.yml: the API (`chalice local`), the queue pump, and the one-shot
# init and migration steps (target `app`); target `web` adds the built page for the web service.
# On AWS, Chalice packages app.py + chalicelib/ for Lambda instead; this image is for local stacks.

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
# The Lambda runtime requirements, plus alembic (pinned in requirements-dev.txt) for `migrate`.
COPY requirements.txt requirements-dev.txt ./
RUN pip install -r requirements.txt "$(grep -E '^alembic' requirements-dev.txt)"
COPY app.py alembic.ini ./
COPY .chalice/config.json .chalice/config.json
COPY chalicelib/ chalicelib/
COPY migrations/ migrations/
COPY infra/ infra/
RUN useradd --create-home --uid 10001 inlet
USER inlet
EXPOSE 8000
CMD ["chalice", "local", "--no-autoreload", "--host", "0.0.0.0", "--port", "8000"]

# --- the publisher of the web page (python -m local.web) ---------------------------------------
FROM app AS web
COPY --from=frontend /frontend/dist frontend/dist
CMD ["python", "-m", "local.web", "--api-url", "http://localhost:8000"]
