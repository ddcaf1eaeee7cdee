# The pvmon image: one program, a subcommand per process (see docker-compose.yml).
FROM python:3.11-slim
# WeasyPrint's libraries and the CJK fonts the disclosure sheets are set in.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY pvmon ./pvmon
COPY ingest ./ingest
COPY analytics ./analytics
COPY api ./api
COPY alerts ./alerts
COPY simulators ./simulators
COPY gateway ./gateway
COPY maintenance ./maintenance
COPY finance ./finance
COPY launch ./launch
RUN pip install --no-cache-dir . && useradd --system --home /data pvmon && mkdir -p /data \
    && chown pvmon /data
USER pvmon
ENV PVMON_DATA_DIR=/data
ENTRYPOINT ["pvmon"]
