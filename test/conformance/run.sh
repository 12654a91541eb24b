#!/bin/sh
# run.sh runs versitygw's integration suite against the gateway built from this
# repository and fails if a test in required.txt fails. Results: results.txt.
# Set IPAS_CONFORMANCE_ENDPOINT (and _ACCESS_KEY, _SECRET_KEY) to test a running server.
set -eu
cd "$(dirname "$0")"
exec go test -count=1 -timeout 10m -v ./...
