#!/bin/sh
# The `default` namespace the edge and workers use (PAYLOOPS_TEMPORAL_NAMESPACE), made once
# the server answers; docker-compose.yml's temporal-namespace job, in the admin-tools image.
# Edges and workers wait for this job: it is also the proof that Temporal is up.
set -eu
: "${TEMPORAL_ADDRESS:?}"
namespace="${PAYLOOPS_TEMPORAL_NAMESPACE:-default}"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 90 ] || { echo "Temporal at $TEMPORAL_ADDRESS did not answer" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$namespace" --retention 30d
echo "namespace $namespace ready"
