# escape=`
FROM golang
WORKDIR /app
COPY . .
RUN go mod download
ADD https://example.com/tools/migrate.tar.gz /tmp/
RUN <<EOF
set -e
go build -mod=mod -o /usr/local/bin/app .
EOF
ENV GOMAXPROCS=4 `
    GOGC=off
USER root
EXPOSE 6060
CMD ["go", "run", "."]
