# syntax=docker/dockerfile:1
# Vigil's `policy` in a small image: built with cargo in the Rust image, run from distroless (glibc and
# libgcc only: no shell, no package manager) as the non-root user, with `policy` as the entrypoint.
#
#   docker build --build-arg VIGIL_GIT_COMMIT="$(git rev-parse --short=12 HEAD)" -t vigil .
#   docker run --rm -v "$PWD:/work:ro" vigil check .
#
# scripts/container-test.sh builds and exercises it. For production, pin both base images by digest
# (`FROM rust:1-slim-bookworm@sha256:...`) in your mirror.

ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src
# .dockerignore keeps `.git` out, so the commit `policy --version` names comes in as an argument.
ARG VIGIL_GIT_COMMIT=unknown
ENV VIGIL_GIT_COMMIT=${VIGIL_GIT_COMMIT} CARGO_TERM_COLOR=never
COPY . .
RUN cargo install --locked --path . --root /out && /out/bin/policy --version

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/bin/policy /usr/local/bin/policy
# Mount the repository here; reports go to standard output (or to a writable mount with --output).
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/policy"]
CMD ["--help"]
