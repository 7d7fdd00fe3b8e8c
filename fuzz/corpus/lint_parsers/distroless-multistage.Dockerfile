# syntax=docker/dockerfile:1.7
# A service built the way the Go distroless examples recommend: modules first, static
# binary, nonroot distroless final stage, exec-form entrypoint.
ARG GO_VERSION=1.23
ARG REGISTRY=registry.invalid
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags="-s -w -X main.version=1.4.2" \
      -o /out/api ./cmd/api

FROM ${REGISTRY}/distroless/static-debian12:nonroot
COPY --from=build /out/api /api
EXPOSE 8080
ENTRYPOINT ["/api"]
