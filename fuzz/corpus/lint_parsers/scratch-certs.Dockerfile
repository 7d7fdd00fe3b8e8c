FROM golang:1.23 AS build
WORKDIR /go/src/app
COPY . .
RUN go mod download
RUN go build -o /go/bin/app .

FROM alpine:3.20 AS certs
RUN apk add --no-cache ca-certificates

FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /go/bin/app /app
USER 65534:65534
EXPOSE 8080 6060/tcp
ENTRYPOINT ["/app"]
