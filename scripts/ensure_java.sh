#!/bin/sh
# Make sure Spark (pyspark 4) finds a Java 17+ runtime: $JAVA_HOME, else java on PATH; when neither
# is there, install Debian/Ubuntu's openjdk-17-jre-headless with apt-get (as root, or with sudo).
# Used by `make test-spark`.
set -eu

java_major() {  # the major version of the java given as $1, or 0
    "$1" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1 | grep . || echo 0
}

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME/bin/java")" -ge 17 ]; then
    exit 0
fi
if command -v java >/dev/null 2>&1 && [ "$(java_major java)" -ge 17 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: Spark needs a Java 17+ runtime; install one (e.g. OpenJDK 17) and put java on PATH" >&2
    exit 2
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing a Java 17 runtime for Spark (openjdk-17-jre-headless)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
java -version
