# crmsim in a container, for cluster jobs (docs/cluster.md).
#   docker build -t crmsim .
#   docker run --rm -v "$PWD/parts:/parts" crmsim run --shard 0/8 --trials 100000000 --out /parts
# Build stage: the release binary, statically linked against musl so the
# runtime image needs no C library.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY benches benches
COPY scenarios scenarios
COPY docs docs
COPY README.md ./
RUN cargo build --release --locked --bin crmsim && strip target/release/crmsim

# Runtime stage: the binary, the bundled scenarios, an unprivileged user.
FROM alpine:3.22
RUN adduser -D -u 10001 crmsim
COPY --from=build /src/target/release/crmsim /usr/local/bin/crmsim
COPY --from=build /src/scenarios /opt/crmsim/scenarios
USER crmsim
WORKDIR /home/crmsim
ENTRYPOINT ["crmsim"]
CMD ["--help"]
