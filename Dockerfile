# Celerity worker image, built inside Docker: docker build -t celerity .  (or: docker-compose up --build)
#
# Stage 1 builds the shaded jar with Maven; stage 2 is a JRE, the jar and a non-root user: no
# Maven, no sources, no curl (the health check is `celerity health`, the worker's own client).
#
# Configuration comes from CELERITY_* environment variables, which the worker's config loader
# maps to its settings (CELERITY_BROKER -> broker, CELERITY_RESULT_BACKEND -> result_backend,
# CELERITY_HTTP_HOST -> http_host, ...). Extra CLI arguments can be appended after the image name
# (`docker run celerity --queues a,b`) and are passed after `worker`.
# JVM flags: JAVA_OPTS (after the image's defaults, so they override them: JAVA_OPTS=-XX:TieredStopAtLevel=1
# for C1 only on a small container), or JAVA_TOOL_OPTIONS (read by the JVM itself, before them).
# Default: a Java 25 runtime (the jar targets Java 17; on 25 a cold worker drained 100,000 short tasks
# 24% faster on average than on 17 in six alternated pairs, docs/performance.md), the AOT cache below, and
# the serial GC and smaller C2 inlining when the pool is `process` (a GC picked in JAVA_OPTS replaces it;
# JAVA_OPTS=-XX:FreqInlineSize=325 -XX:InlineSmallCode=2500 gives the JVM's inlining back).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# the poms first, so a change to the sources alone does not invalidate their layer
COPY pom.xml .
COPY celerity-api/pom.xml celerity-api/
COPY celerity-client/pom.xml celerity-client/
COPY celerity-worker/pom.xml celerity-worker/
COPY celerity-api/src celerity-api/src
COPY celerity-client/src celerity-client/src
COPY celerity-worker/src celerity-worker/src
# the local repository is kept between builds (BuildKit cache), so a rebuild downloads nothing;
# the root build writes the worker's fat jar to target/celerity.jar
RUN --mount=type=cache,target=/root/.m2 mvn -B -ntp -q -DskipTests package

FROM eclipse-temurin:25-jre
# a fixed numeric uid, so Kubernetes' runAsNonRoot can check it
RUN groupadd --system --gid 10001 celerity \
 && useradd --system --uid 10001 --gid celerity --home-dir /app --no-create-home celerity
WORKDIR /app
COPY --from=build /build/target/celerity.jar /app/celerity.jar
# An AOT cache of the worker's classes and method profiles (Java 25, JEP 483/515), made once here by a
# training run: `celerity train` drains 100,000 examples.add on the in-JVM broker (there is no RabbitMQ
# during `docker build`) with the threads pool, then 100,000 with the process pool (two Java children:
# the parent's side is the same whatever the children run), and exits; the JVM assembles the cache.
# Against a cache of start-up alone, a cold worker used ~15% less CPU over its first 50,000 tasks (less
# compiling) and reached its first task ~1 s sooner than without one (docs/performance.md); a JVM that
# cannot use it (other flags, another JRE) starts without it. -Xlog:aot*=off: its notices are not the worker's.
RUN java -XX:AOTCacheOutput=/app/celerity.aot -Xlog:aot*=off,cds*=off -jar /app/celerity.jar train \
      --tasks 100000 >/dev/null \
 && test -s /app/celerity.aot

# The HTTP bridge listens on 127.0.0.1 inside the container by default (the health check uses it).
# To reach it from outside, set CELERITY_HTTP_HOST=0.0.0.0 together with CELERITY_HTTP_TOKEN (at
# least 16 characters): the worker refuses to expose the bridge beyond loopback without a token.
ENV CELERITY_BROKER=amqp://guest:guest@rabbitmq:5672// \
    CELERITY_RESULT_BACKEND=redis://redis:6379/0 \
    CELERITY_HTTP_PORT=8080

EXPOSE 8080
USER 10001:10001

# `docker stop` sends SIGTERM: a warm shutdown that waits up to shutdown_timeout (60 s) for running
# tasks. Give it longer than that: docker stop -t 90, or stop_grace_period in compose (see docs/deployment.md).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:AOTCache=/app/celerity.aot", "-Xlog:aot*=off,cds*=off", "-Xmx32m", "-jar", "/app/celerity.jar", "health"]

# sh to expand JAVA_OPTS and to see the pool (as bin/celerity does: with -P process / --pool process /
# CELERITY_POOL=process the parent JVM runs no task bodies and keeps a small heap, so the serial GC
# unless JAVA_OPTS picks a GC, and smaller C2 inlining, which JAVA_OPTS can set back, docs/performance.md);
# exec makes java PID 1, so it receives docker stop's SIGTERM itself
ENTRYPOINT ["sh", "-c", "pool=; prev=; for a; do case $prev in -P|--pool) pool=$a;; esac; case $a in -P?*) pool=${a#-P}; pool=${pool#=};; --pool=*) pool=${a#--pool=};; esac; prev=$a; done; gc=; jit=; if [ \"${pool:-$CELERITY_POOL}\" = process ]; then jit='-XX:FreqInlineSize=100 -XX:InlineSmallCode=1000'; gc=-XX:+UseSerialGC; for o in $JAVA_OPTS $JAVA_TOOL_OPTIONS $JDK_JAVA_OPTIONS; do case $o in -XX:+Use*GC) gc=;; esac; done; fi; exec java $gc $jit -XX:AOTCache=/app/celerity.aot -Xlog:aot*=off,cds*=off $JAVA_OPTS -jar /app/celerity.jar worker \"$@\"", "celerity"]
