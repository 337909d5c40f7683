# syntax=docker/dockerfile:1
# Build: docker build -t tributary .   Run: see docker-compose.yml.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY tests ./tests
# Cache mounts keep the registry and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/tributary /tributary

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin tributary \
    && mkdir -p /data /app \
    && chown tributary:tributary /data
COPY --from=build /tributary /app/tributary
COPY static /app/static
ENV TRIBUTARY_LISTEN=0.0.0.0:8080 \
    TRIBUTARY_DATA_DIR=/data \
    PATH=/app:$PATH
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["tributary", "healthcheck"]
# `serve` applies pending migrations before it listens.
CMD ["tributary", "serve"]
