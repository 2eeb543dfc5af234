# multiarch-controller container image: built on Debian bookworm, run from a slim image as a non-root user.
# Build for both architectures with: docker buildx build --platform linux/amd64,linux/arm64 .
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config git \
      libcurl4-openssl-dev libyaml-dev libcjson-dev libwebsockets-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make WERROR=-Werror bin/multiarch-controller

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libcurl4 libyaml-0-2 libcjson1 libwebsockets17 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/bin/multiarch-controller /usr/local/bin/multiarch-controller
USER 65532:65532
ENTRYPOINT ["multiarch-controller"]
CMD ["run"]
