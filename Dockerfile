# crmsim in a container, for cluster jobs (docs/cluster.md).
#   docker build -t crmsim .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD/parts:/parts" crmsim \
#       run --shard 0/8 --trials 100000000 --out /parts
# The bundled scenarios are in /usr/share/crmsim/scenarios; without a file,
# `crmsim run` simulates the baseline built into the binary.

# Build stage: the release binary, statically linked against musl, so that it
# runs on any Linux (and can be copied out of the image onto cluster nodes).
FROM rust:1.95-bookworm AS build
RUN rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
# The dependencies first, in a layer of their own: editing the sources does
# not download them again.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN cargo fetch --locked --target "$(uname -m)-unknown-linux-musl"
COPY . .
RUN target="$(uname -m)-unknown-linux-musl" \
    && cargo build --release --locked --offline --bin crmsim --target "$target" \
    && strip -o /crmsim "target/$target/release/crmsim"

# Runtime stage: the binary, the bundled scenarios, an unprivileged user. A
# shell stays, for the glob of the merge step and a copy to object storage.
FROM debian:bookworm-slim
RUN useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin crmsim
COPY --from=build /crmsim /usr/local/bin/crmsim
COPY scenarios /usr/share/crmsim/scenarios
USER 10001:10001
WORKDIR /home/crmsim
ENTRYPOINT ["crmsim"]
CMD ["--help"]
