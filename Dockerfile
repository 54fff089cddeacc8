# One image for every process in the Procfile: `python -m bot serve` (the default), `clock` and `teams`.
# docker compose up --build runs it with PostgreSQL (compose.yaml, docs/deploy.md).

FROM python:3.11-slim AS build
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY config ./config
# Installed, not editable: config/ travels inside the package (pyproject.toml), so nothing here is needed at run time.
RUN pip install --no-cache-dir '.[postgres]'

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=build /opt/venv /opt/venv
RUN groupadd --gid 10001 bot && useradd --uid 10001 --gid bot --create-home --home-dir /app bot
# The working folder holds what the bot keeps beside itself: smallchanges.db when DATABASE_URL is unset, exports.
WORKDIR /app
USER 10001:10001
EXPOSE 3000 3978
CMD ["python", "-m", "bot", "serve"]
