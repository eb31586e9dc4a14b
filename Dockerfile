# The service as one static binary on a distroless base: no shell, CA certificates for
# Kajabi's HTTPS, a non-root user. CI cannot pull base images; it builds the same binary
# the way the build stage does (.ci/run) and checks compose.yaml (server_deploy_test.go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/facade .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/facade /facade
USER nonroot:nonroot
ENV LISTEN_ADDR=:8080 LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/facade"]
