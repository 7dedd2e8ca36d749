# hf_ser training image: `accelerate launch hf_ser/train.py <recipe>` on a CUDA GPU (or CPU).
#
#   docker build -t hf-ser .
#   docker run --gpus all --user $(id -u):$(id -g) -v $PWD/runs:/app/runs -v hf_home:/data/hf_home -e HF_TOKEN \
#     hf-ser recipes/<recipe>.yaml
#
# BASE_IMAGE must provide python3 (3.10-3.12) with venv support; the default is pinned by digest, so a moved
# tag never changes what is built (refresh it with `docker buildx imagetools inspect python:3.11-slim-bookworm`).
# Behind a TLS-intercepting proxy, mount the proxy's CA bundle into the build and pass
# --build-arg PIP_CERT=<its path> (see docs/distribution.md).
# Tokens (HF_TOKEN, WANDB_API_KEY) come from the runtime environment and are never baked into the image.
ARG BASE_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# Inference image (`--target serve`): `hf-ser serve` on an exported ONNX model with onnxruntime, numpy, soundfile,
# soxr and the server (FastAPI, uvicorn), without torch or transformers. Its stages come first, so a plain
# `docker build .` still builds the training image (the last stage).
#
#   hf-ser export onnx runs/demo/model export/            # on a machine with the training install
#   docker build --target serve -t hf-ser-serve .
#   docker run -p 8000:8000 -v $PWD/export:/models/model:ro hf-ser-serve
FROM ${BASE_IMAGE} AS serve-builder
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml requirements.lock README* ./
COPY hf_ser ./hf_ser
# hf_ser itself without its training dependencies (--no-deps), then only what the ONNX path imports, pinned by
# requirements.lock; silero-vad without its torch dependency (hf_ser reads its ONNX file directly).
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi \
    && pip install --upgrade pip \
    && pip install -c requirements.lock onnxruntime numpy soundfile soxr fastapi uvicorn python-multipart \
    && pip install -c requirements.lock --no-deps silero-vad . \
    && ! pip show torch transformers 2>/dev/null | grep -q '^Name:'

FROM ${BASE_IMAGE} AS serve
RUN groupadd --gid 1000 ser && useradd --uid 1000 --gid ser --create-home --shell /bin/bash ser
COPY --from=serve-builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
USER ser
EXPOSE 8000
# 0.0.0.0 inside the container, so that `docker run -p` can publish the port (hf-ser serve's default is 127.0.0.1).
ENTRYPOINT ["hf-ser", "serve", "--backend", "onnx", "--host", "0.0.0.0", "--port", "8000"]
CMD ["/models/model"]

# Stage 1, builder: a virtualenv with hf_ser and the exact versions of requirements.lock (the set the tests
# ran with; without it pip picks the newest releases in pyproject's ranges). torch==2.11.0 from PyPI ships its
# CUDA runtime as nvidia-* wheels, so no CUDA base image is needed; the host only needs the NVIDIA driver.
FROM ${BASE_IMAGE} AS builder
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml requirements.lock README* ./
COPY hf_ser ./hf_ser
# An empty PIP_CERT would be read by pip as a certificate path: only export it when set.
RUN if [ -z "$PIP_CERT" ]; then unset PIP_CERT; fi \
    && pip install --upgrade pip \
    && pip install -c requirements.lock .

# Stage 2, runtime: the virtualenv, the training script and the recipes, run as an unprivileged user.
# Code and recipes belong to root and are read-only to the runtime user; only /app/runs (the run folders)
# and /data/hf_home (Hub and audio caches) are writable, and by any uid, so `docker run --user $(id -u):$(id -g)`
# writes into a host folder mounted on /app/runs with the host user's ownership.
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --gid 1000 ser && useradd --uid 1000 --gid ser --create-home --shell /bin/bash ser \
    && mkdir -p /app/runs /data/hf_home && chown ser:ser /app/runs /data/hf_home \
    && chmod 1777 /app/runs /data/hf_home
COPY --from=builder /opt/venv /opt/venv
# HOME and USER hold for any uid: with `--user` a uid may have no /etc/passwd entry, so the home would be `/`
# (not writable) and getpass.getuser(), which torch's compile caches call, would raise.
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    USER=ser \
    HF_HOME=/data/hf_home \
    HF_SER_CACHE=/data/hf_home/hf_ser \
    MPLCONFIGDIR=/tmp/matplotlib \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1
WORKDIR /app
# The entrypoint runs hf_ser/train.py by path (accelerate launch takes a script), so the source sits in /app.
COPY hf_ser ./hf_ser
COPY recipes ./recipes
RUN chmod -R a+rX,go-w /app/hf_ser /app/recipes
VOLUME ["/data/hf_home"]
USER ser
ENTRYPOINT ["accelerate", "launch", "hf_ser/train.py"]
CMD ["--help"]
