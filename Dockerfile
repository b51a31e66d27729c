FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /signet ./cmd/signet

FROM gcr.io/distroless/static-debian12
COPY --from=build /signet /signet
VOLUME /data
ENV SIGNET_DATA=/data
EXPOSE 8080
ENTRYPOINT ["/signet"]
