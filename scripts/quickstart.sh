#!/usr/bin/env bash
# Kafka's Connect quickstart on kconnect, with the embedded broker: no Kafka to install.
# Builds kconnect and the FileStream plugin, streams test.txt into topic connect-test and from
# there into test.sink.txt, shows the connectors through the REST API, then stops the worker.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p kconnect -p kconnect-file-plugin
mkdir -p target/plugins
cp target/release/libkconnect_file_plugin.so target/plugins/
rm -f test.sink.txt /tmp/connect.offsets /tmp/connect.offsets.connectors.json
printf 'foo\nbar\n' > test.txt

target/release/kconnect standalone config/connect-standalone.properties \
    config/connect-file-source.properties config/connect-file-sink.properties &
worker=$!
trap 'kill -TERM $worker 2>/dev/null || true' EXIT

wait_for_lines() {
    for _ in $(seq 1 150); do
        [ -f test.sink.txt ] && [ "$(wc -l < test.sink.txt)" -ge "$1" ] && return 0
        sleep 0.2
    done
    echo "quickstart: test.sink.txt did not reach $1 lines" >&2
    return 1
}
wait_for_lines 2
echo "Another line" >> test.txt
wait_for_lines 3

echo "--- GET /connectors"; curl -sS localhost:8083/connectors; echo
echo "--- GET /connectors/local-file-source/status"; curl -s localhost:8083/connectors/local-file-source/status; echo
kill -TERM $worker
wait $worker || true
trap - EXIT
echo "--- test.sink.txt"
cat test.sink.txt
