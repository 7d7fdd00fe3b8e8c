FROM golang:1.23 AS build
RUN go build -o /app .
COPYY --from=build /app /app
