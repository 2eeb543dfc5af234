# multiarch-controller container image: built on Debian bookworm, run from a slim image as a non-root user, with only
# the shared libraries it needs and CA certificates; nothing in it is architecture-specific.
# Build for both architectures with: docker buildx build --platform linux/amd64,linux/arm64 -t IMAGE .
# or natively on each architecture's nodes with a MultiArchBuild of this repository (`make release`, docs/release.md).
# It runs with a read-only root filesystem: it writes nothing but its own stderr.
#
# BUILD_IMAGE and RUNTIME_IMAGE name the two Debian bookworm bases; a base that already holds the packages below
# (dpkg says so) is used as it is, without apt, so a build with no route to a Debian mirror works from such bases.
ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
ARG BUILD_PACKAGES="build-essential pkg-config git libcurl4-openssl-dev libyaml-dev libcjson-dev libwebsockets-dev libssl-dev"
RUN set -e; installed=$(dpkg-query -W -f='${db:Status-Status}\n' $BUILD_PACKAGES 2>/dev/null | grep -c '^installed$' || true); \
    if [ "$installed" != "$(echo $BUILD_PACKAGES | wc -w)" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $BUILD_PACKAGES && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . .
ARG GIT_COMMIT=unknown
RUN make -j"$(nproc)" WERROR=-Werror GIT_COMMIT=$GIT_COMMIT bin/multiarch-controller && strip bin/multiarch-controller

FROM ${RUNTIME_IMAGE}
ARG RUNTIME_PACKAGES="ca-certificates libcurl4 libyaml-0-2 libcjson1 libwebsockets17 libssl3"
RUN set -e; installed=$(dpkg-query -W -f='${db:Status-Status}\n' $RUNTIME_PACKAGES 2>/dev/null | grep -c '^installed$' || true); \
    if [ "$installed" != "$(echo $RUNTIME_PACKAGES | wc -w)" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $RUNTIME_PACKAGES && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /src/bin/multiarch-controller /usr/local/bin/multiarch-controller
LABEL org.opencontainers.image.title="multiarch-controller" \
      org.opencontainers.image.description="Builds multi-architecture images on Kubernetes"
USER 65532:65532
ENTRYPOINT ["multiarch-controller"]
CMD ["run"]
