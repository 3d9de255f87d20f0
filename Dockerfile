# Small static image: the operator is one statically linked binary (musl) running as non-root.
# Manifests and templates are embedded in the binary, so the image holds nothing else.

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

FROM scratch
COPY --from=build /nuvolaris-operator /nuvolaris-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nuvolaris-operator"]
CMD ["run"]
