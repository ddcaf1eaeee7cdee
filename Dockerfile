# The pvmon image: one program, a subcommand per process (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pvmon ./pvmon
COPY ingest ./ingest
COPY analytics ./analytics
COPY api ./api
COPY alerts ./alerts
COPY simulators ./simulators
COPY launch ./launch
RUN pip install --no-cache-dir . && useradd --system --home /data pvmon && mkdir -p /data \
    && chown pvmon /data
USER pvmon
ENV PVMON_DATA_DIR=/data
ENTRYPOINT ["pvmon"]
