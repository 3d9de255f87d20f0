# The operator's images: one statically linked binary (musl) running as non-root, with the CA
# certificates and an /etc/passwd. Manifests and templates are embedded in the binary.
#   docker build -t ghcr.io/nuvolaris/nuvolaris-operator:0.1.0 .                 (deploy/operator)
#   docker build --target ops -t ghcr.io/nuvolaris/nuvolaris-operator:0.1.0-ops .  (the ops CLI)
# The `ops` variant adds bash (Debian's bash-static) and /home/nuvolaris/run.sh, because the `ops`
# CLI's StatefulSet runs `bash -c ./run.sh --verbose` as uid 1001.
# `task image` (tools/image/build.sh) builds the same two images without a container engine.

FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# Dependencies first, so that a source change does not rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && mkdir deploy templates \
    && cargo build --release --locked || true
COPY src ./src
COPY deploy ./deploy
COPY templates ./templates
RUN touch src/main.rs src/lib.rs && cargo build --release --locked \
    && cp target/release/nuvolaris-operator /nuvolaris-operator

FROM debian:bookworm-slim AS debian
RUN apt-get update && apt-get install -y --no-install-recommends bash-static ca-certificates \
    && rm -rf /var/lib/apt/lists/*

FROM scratch AS operator
COPY --from=build /nuvolaris-operator /nuvolaris-operator
COPY tools/image/passwd tools/image/group /etc/
COPY --from=debian /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nuvolaris-operator"]
CMD ["run"]

FROM operator AS ops
COPY --from=debian /usr/bin/bash-static /bin/bash
COPY tools/image/run.sh /home/nuvolaris/run.sh
ENV HOME=/home/nuvolaris
WORKDIR /home/nuvolaris
USER 1001:0
ENTRYPOINT ["/home/nuvolaris/run.sh"]
CMD []

# The default target: the plain image.
FROM operator
