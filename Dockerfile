# patchready: a static binary on a distroless base, run as a non-root user,
# with its data in a volume.
#   docker build -t patchready .
#   docker run -p 8080:8080 -v patchready-data:/data patchready
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/patchready ./cmd/patchready \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/patchready /patchready
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV PATCHREADY_DB=/data/patchready.db \
    PATCHREADY_ADDR=0.0.0.0:8080 \
    PATCHREADY_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/patchready", "probe", "http://127.0.0.1:8080/livez"]
ENTRYPOINT ["/patchready"]
CMD ["serve", "--no-demo"]
