# Shaped like a ko image: a prebuilt static binary under /ko-app on a distroless base.
ARG BASE=distroless/static:nonroot
FROM ${BASE}
COPY out/linux_amd64/server /ko-app/server
ENV KO_DATA_PATH=/var/run/ko
ENTRYPOINT /ko-app/server
