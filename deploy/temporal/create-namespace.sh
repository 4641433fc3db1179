#!/bin/sh
# The `default` namespace the edge and workers use (PAYLOOPS_TEMPORAL_NAMESPACE), made once
# the server answers, with the payment workflow's search attributes (Temporal refuses to start
# a workflow with an unregistered one); docker-compose.yml's temporal-namespace job, in the
# admin-tools image. Safe to run again. Edges and workers wait for this job: it is also the
# proof that Temporal is up.
set -eu
: "${TEMPORAL_ADDRESS:?}"
namespace="${PAYLOOPS_TEMPORAL_NAMESPACE:-default}"
# core/contracts/search_attributes.py's, all Keyword (tests/deploy holds the two together).
search_attributes="PayLoopsOrderId PayLoopsMerchantId PayLoopsCorrelationId PayLoopsStatus"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 90 ] || { echo "Temporal at $TEMPORAL_ADDRESS did not answer" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$namespace" --retention 30d
registered() {
  temporal operator search-attribute list --namespace "$namespace" 2>/dev/null | grep -qw "$1"
}
for name in $search_attributes; do
  # A namespace just made takes a few seconds to reach every service of the server.
  tries=0
  until registered "$name" \
    || temporal operator search-attribute create --namespace "$namespace" \
      --name "$name" --type Keyword >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 30 ] || { echo "search attribute $name not registered" >&2; exit 1; }
    sleep 1
  done
done
echo "namespace $namespace ready"
