# Builds the handover service. No network access is needed at run time; the build fetches crates
# from crates.io only (there are no compile-time database checks, so no sqlx offline data).
#
# Dependencies are compiled in their own layer (cargo-chef): the recipe holds only the manifests
# and the lock file, so a change in docs/ or in the service's own code rebuilds from the cached
# dependencies instead of compiling everything again.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p handover-server --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p handover-server \
 && cp target/release/handover /usr/local/bin/handover

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/handover --create-home handover
COPY --from=build /usr/local/bin/handover /usr/local/bin/handover
USER handover
WORKDIR /var/lib/handover
# Production unless told otherwise: it then needs HANDOVER_JWT_KEY, HANDOVER_SMTP_HOST and
# HANDOVER_PUBLIC_URL, and refuses unknown HANDOVER_* variables (docs/operations.md).
ENV LISTEN_ADDR=0.0.0.0:8080 \
    HANDOVER_MODE=production \
    HANDOVER_DATA_DIR=/var/lib/handover \
    HANDOVER_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["handover"]
CMD ["serve"]
