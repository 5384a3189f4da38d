# recovery-monitor as a container: `serve` (monitor service) and `gateway` (ingest service) in docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY monitor monitor
COPY dashboards dashboards
RUN pip install --no-cache-dir .
ENTRYPOINT ["recovery-monitor"]
CMD ["--help"]
