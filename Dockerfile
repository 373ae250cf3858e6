# Build a static, stripped binary on the build machine's own platform (Go
# cross-compiles, so an arm64 image needs no emulated compiler), then copy
# it onto a distroless base.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /meshcentral-authentik .

# distroless/static has CA certificates and no shell. The action runs as
# root because the runner's file commands (GITHUB_OUTPUT and friends) are
# owned by root inside the container.
FROM gcr.io/distroless/static-debian12
COPY --from=build /meshcentral-authentik /meshcentral-authentik
USER root
ENTRYPOINT ["/meshcentral-authentik"]
