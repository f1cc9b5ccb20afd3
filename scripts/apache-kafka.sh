#!/usr/bin/env bash
# Apache Kafka from Maven Central, for the tests and for trying kconnect against a real broker.
#
#   scripts/apache-kafka.sh home     collect the jars once (Maven, cached in ~/.m2), print their folder
#   scripts/apache-kafka.sh start    start a one-node KRaft broker on 127.0.0.1:9092 (data in /tmp)
#   scripts/apache-kafka.sh stop     stop it
#   scripts/apache-kafka.sh status   say whether it runs
#
# The Kafka version is pinned in tests/apache-kafka/pom.xml. KAFKA_PORT, KAFKA_CONTROLLER_PORT
# and KAFKA_DATA change the broker's ports and folder; KCONNECT_KAFKA_HOME where the jars go.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pom="$root/tests/apache-kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
home="${KCONNECT_KAFKA_HOME:-$HOME/.cache/kconnect/apache-kafka-$version}"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
data="${KAFKA_DATA:-/tmp/kconnect-apache-kafka}"

collect() {
    if [ -f "$home/.complete" ]; then
        return
    fi
    command -v mvn >/dev/null || { echo "apache-kafka.sh: Maven (mvn) is needed to fetch Kafka's jars" >&2; exit 1; }
    command -v java >/dev/null || { echo "apache-kafka.sh: a Java runtime (17+) is needed" >&2; exit 1; }
    rm -rf "$home"
    # Offline first: a second machine with a warm ~/.m2 never touches the network.
    mvn -B -q -o -f "$pom" package -Dkafka.home="$home" >/dev/null 2>&1 \
        || mvn -B -q -f "$pom" package -Dkafka.home="$home" >&2
    touch "$home/.complete"
}

java_run() {
    java -Xms256m -Xmx768m -XX:+UseSerialGC -cp "$home/libs/*" \
        -Dlog4j2.configurationFile="$data/log4j2.properties" "$@"
}

case "${1:-}" in
home)
    collect
    echo "$home"
    ;;
start)
    collect
    if [ -f "$data/broker.pid" ] && kill -0 "$(cat "$data/broker.pid")" 2>/dev/null; then
        echo "Apache Kafka $version already runs on 127.0.0.1:$port (pid $(cat "$data/broker.pid"))"
        exit 0
    fi
    mkdir -p "$data"
    cat > "$data/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data/logs
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
    cat > "$data/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $data/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
    if [ ! -f "$data/logs/meta.properties" ]; then
        cluster_id="$(java_run kafka.tools.StorageTool random-uuid)"
        java_run kafka.tools.StorageTool format -t "$cluster_id" -c "$data/server.properties" >/dev/null
    fi
    nohup java -Xms256m -Xmx768m -XX:+UseSerialGC -cp "$home/libs/*" \
        -Dlog4j2.configurationFile="$data/log4j2.properties" \
        kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 &
    echo $! > "$data/broker.pid"
    for _ in $(seq 1 300); do
        if grep -q "Kafka Server started" "$data/server.log" 2>/dev/null; then
            echo "Apache Kafka $version runs on 127.0.0.1:$port (pid $(cat "$data/broker.pid"), log $data/server.log)"
            echo "Try: bootstrap.servers=127.0.0.1:$port in config/connect-standalone.properties"
            exit 0
        fi
        if ! kill -0 "$(cat "$data/broker.pid")" 2>/dev/null; then
            echo "apache-kafka.sh: the broker exited; see $data/server.log and $data/stdout.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "apache-kafka.sh: the broker did not start within 60 s; see $data/server.log" >&2
    exit 1
    ;;
stop)
    if [ -f "$data/broker.pid" ] && kill -0 "$(cat "$data/broker.pid")" 2>/dev/null; then
        kill -TERM "$(cat "$data/broker.pid")"
        for _ in $(seq 1 150); do
            kill -0 "$(cat "$data/broker.pid")" 2>/dev/null || break
            sleep 0.2
        done
        echo "stopped"
    else
        echo "not running"
    fi
    rm -f "$data/broker.pid"
    ;;
status)
    if [ -f "$data/broker.pid" ] && kill -0 "$(cat "$data/broker.pid")" 2>/dev/null; then
        echo "running on 127.0.0.1:$port (pid $(cat "$data/broker.pid"))"
    else
        echo "not running"
        exit 1
    fi
    ;;
*)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
