# Celerity worker image. Build the jar first (mvn -q -DskipTests package -> target/celerity.jar),
# then: docker build -t celerity .   (or: docker-compose up --build)
#
# Configuration comes from CELERITY_* environment variables, which the worker's config loader
# maps to its settings (CELERITY_BROKER -> broker, CELERITY_RESULT_BACKEND -> result_backend,
# CELERITY_HTTP_HOST -> http_host, ...). Extra CLI arguments can be appended after the image name
# (`docker run celerity --queues a,b`) and are passed after `worker`.
# JVM flags: set JAVA_TOOL_OPTIONS (read by the JVM itself), not a CELERITY_* variable.
FROM eclipse-temurin:17-jre

# curl is used by the container healthcheck (GET /health on the HTTP bridge).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system celerity && useradd --system --gid celerity --home-dir /app celerity
WORKDIR /app
COPY target/celerity.jar /app/celerity.jar

# The HTTP bridge listens on 127.0.0.1 inside the container (the health check uses it). To reach
# it from outside, set CELERITY_HTTP_HOST=0.0.0.0 together with CELERITY_HTTP_TOKEN: the worker
# refuses to expose the bridge beyond loopback without a token.
ENV CELERITY_BROKER=amqp://guest:guest@rabbitmq:5672// \
    CELERITY_RESULT_BACKEND=redis://redis:6379/0 \
    CELERITY_HTTP_PORT=8080

EXPOSE 8080
USER celerity

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD curl -fsS http://127.0.0.1:8080/health || exit 1

ENTRYPOINT ["java", "-jar", "/app/celerity.jar", "worker"]
