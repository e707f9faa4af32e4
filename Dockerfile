# Repères: the chat and the HTTP API on port 7860, data (converted model, index, feedback) in /data.
# Build: docker build -t reperes .    Run: docker compose up -d (see compose.yaml and the README, "Docker").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HOME=/data/huggingface \
    REPERES_HOME=/data

# torch first, from PyTorch's CPU index: a plain `torch` from PyPI pulls the CUDA build (GBs) that a
# CPU-only service never uses (the Makefile pins the same version).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /app
# The project as an editable install: the bundled corpus (data/corpus) and the prompts are read next to
# the packages, as in a checkout. Sources are copied after the metadata so a code change rebuilds little.
COPY pyproject.toml README.md LICENSE ./
COPY assistant ./assistant
COPY index ./index
COPY ingest ./ingest
COPY prompts ./prompts
COPY eval ./eval
COPY data ./data
RUN pip install -e .

# Never root. /data belongs to the service user; a fresh named volume mounted there takes its owner.
RUN useradd --create-home --uid 10001 reperes && mkdir -p /data && chown reperes:reperes /data
USER reperes
VOLUME ["/data"]

# The model is converted and the index built at first start, into the /data volume (about a minute on
# 2 cores), then reused by every later start: the image stays small and never holds a stale index.
EXPOSE 7860
CMD ["reperes", "serve", "--host", "0.0.0.0", "--port", "7860"]
