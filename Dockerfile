FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /signet ./cmd/signet

# Debian slim rather than distroless: OCR of licences and ID cards runs the
# tesseract command with its Simplified Chinese data; seals and typed
# signatures are drawn with the WenQuanYi Zen Hei font.
FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-zenhei ca-certificates && rm -rf /var/lib/apt/lists/* && \
    useradd --system --home /data signet && mkdir -p /data && chown signet /data
USER signet
COPY --from=build /signet /signet
VOLUME /data
ENV SIGNET_DATA=/data
EXPOSE 8080
ENTRYPOINT ["/signet"]
