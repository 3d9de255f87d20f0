#!/usr/bin/env bash
# Fetches an Apache Kafka broker and its ZooKeeper (the jars of Kafka's own distribution,
# from Maven Central) into the testdeps cache, for tests/support/servers.rs: `Zookeeper`
# and `Kafka` (run with `java -cp <dir>/*`, Java 17). Kafka 3.9 is the last line that
# still runs with ZooKeeper; ZooKeeper is the version Kafka 3.9.1 itself depends on.
# (The original deploys Kafka 2.3.1 and ZooKeeper 3.4.14 images, neither on Maven Central
# as a runnable distribution; Kafka 3.9 keeps the ZooKeeper mode they use.)
#
# Usage: tools/testdeps/kafka.sh     prints the directory holding the jars
set -euo pipefail
KAFKA_VERSION=3.9.1
SCALA_VERSION=2.13
SLF4J_VERSION=1.7.36

TESTDEPS_NAME=kafka
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dir="$TESTDEPS_CACHE/kafka-${SCALA_VERSION}-$KAFKA_VERSION"
stamp="$dir/installed"

# The stamp is written last, after the jars are copied: a broken fetch is redone.
if [ ! -f "$stamp" ]; then
  testdeps_check_only "no $stamp"
  command -v mvn >/dev/null || testdeps_die "mvn is required (apt-get install maven)"
  command -v java >/dev/null || testdeps_die "java 17 is required (apt-get install openjdk-17-jre-headless)"
  testdeps_log "fetching kafka_$SCALA_VERSION $KAFKA_VERSION and its dependencies into $dir/libs"
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>org.nuvolaris.testdeps</groupId>
  <artifactId>kafka</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_VERSION</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- the logging binding Kafka's own distribution ships (log4j 1 API) -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-reload4j</artifactId>
      <version>$SLF4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  (cd "$dir" && nice -n 10 mvn -q -B -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory=libs >&2) || testdeps_die "mvn dependency:copy-dependencies failed"
  [ -f "$dir/libs/kafka_$SCALA_VERSION-$KAFKA_VERSION.jar" ] || testdeps_die "no kafka jar in $dir/libs"
  ls "$dir"/libs/zookeeper-3*.jar >/dev/null 2>&1 || testdeps_die "no zookeeper jar in $dir/libs"
  ls "$dir"/libs/reload4j-*.jar >/dev/null 2>&1 || testdeps_die "no reload4j jar in $dir/libs"
  echo "kafka_$SCALA_VERSION-$KAFKA_VERSION" >"$stamp"
fi
echo "$dir/libs"
