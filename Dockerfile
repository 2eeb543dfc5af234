# multiarch-controller container image: built on Debian bookworm, run from a slim image as a non-root user, with only
# the shared libraries it needs and CA certificates; nothing in it is architecture-specific.
# Build for both architectures with: docker buildx build --platform linux/amd64,linux/arm64 -t IMAGE .
# It runs with a read-only root filesystem: it writes nothing but its own stderr.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config git \
      libcurl4-openssl-dev libyaml-dev libcjson-dev libwebsockets-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ARG GIT_COMMIT=unknown
RUN make WERROR=-Werror GIT_COMMIT=$GIT_COMMIT bin/multiarch-controller && strip bin/multiarch-controller

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libyaml-0-2 libcjson1 libwebsockets17 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/multiarch-controller /usr/local/bin/multiarch-controller
LABEL org.opencontainers.image.title="multiarch-controller" \
      org.opencontainers.image.description="Builds multi-architecture images on Kubernetes"
USER 65532:65532
ENTRYPOINT ["multiarch-controller"]
CMD ["run"]
