# sqlite needs cgo: the builder installs a C toolchain, so the binary links musl.
FROM golang:1.22-alpine AS builder
RUN apk add --no-cache gcc musl-dev
WORKDIR /app
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=1
RUN go build -trimpath -ldflags "-s -w" -o /bin/store ./cmd/store

FROM scratch
COPY --from=builder /bin/store /store
CMD /store --db /data/store.db
