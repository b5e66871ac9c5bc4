#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs and starts RabbitMQ, Redis and Debian's
# python3-celery where missing (scripts/setup-services.sh), validates docker-compose.yml, then runs
# every test (unit tests and interop tests against the real brokers and the real Python client) and
# builds examples/producer against the installed modules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup-services.sh
bash scripts/validate-compose.sh
# install, not only verify: the example project builds against the installed artifacts, as a user's would
mvn -B -ntp install "$@"
mvn -B -ntp -q -f examples/producer/pom.xml package
