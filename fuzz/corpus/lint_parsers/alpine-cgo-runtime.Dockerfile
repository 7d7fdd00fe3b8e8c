# The same cgo build, run on alpine: musl is there, so this one starts.
FROM golang:1.22-alpine AS builder
RUN apk add --no-cache build-base
WORKDIR /app
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /bin/store ./cmd/store

FROM alpine:3.20
RUN apk add --no-cache ca-certificates && adduser -D -u 10001 app
COPY --from=builder /bin/store /usr/local/bin/store
USER app
ENTRYPOINT ["store"]
CMD ["--db", "/data/store.db"]
