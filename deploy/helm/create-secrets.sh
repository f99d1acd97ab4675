#!/usr/bin/env bash
# Creates (or updates) the two Secrets deploy/helm/values.yaml refers to, from environment
# variables, so no credential is ever written to a file in the repository:
#
#   jira-server-sync-credentials  OCEAN__PORT__CLIENT_ID, OCEAN__PORT__CLIENT_SECRET and
#                                 OCEAN__INTEGRATION__CONFIG__TOKEN (Personal Access Token)
#                                 or OCEAN__INTEGRATION__CONFIG__USERNAME + ..._PASSWORD
#   jira-server-sync-ca           ca.pem, the CA that signed Jira's certificate (optional)
#
# Usage: PORT_CLIENT_ID=... PORT_CLIENT_SECRET=... JIRA_TOKEN=... [JIRA_CA_FILE=ca.pem] \
#          deploy/helm/create-secrets.sh [NAMESPACE]
#    or: ... JIRA_USERNAME=... JIRA_PASSWORD=... deploy/helm/create-secrets.sh [NAMESPACE]
set -euo pipefail

namespace="${1:-port-ocean}"

: "${PORT_CLIENT_ID:?set PORT_CLIENT_ID}"
: "${PORT_CLIENT_SECRET:?set PORT_CLIENT_SECRET}"

if [ -n "${JIRA_TOKEN:-}" ] && [ -n "${JIRA_USERNAME:-}${JIRA_PASSWORD:-}" ]; then
  echo "error: set JIRA_TOKEN or JIRA_USERNAME + JIRA_PASSWORD, not both" >&2
  exit 2
fi

if [ -n "${JIRA_TOKEN:-}" ]; then
  auth_args=(--from-literal=OCEAN__INTEGRATION__CONFIG__TOKEN="${JIRA_TOKEN}")
elif [ -n "${JIRA_USERNAME:-}" ] && [ -n "${JIRA_PASSWORD:-}" ]; then
  auth_args=(
    --from-literal=OCEAN__INTEGRATION__CONFIG__USERNAME="${JIRA_USERNAME}"
    --from-literal=OCEAN__INTEGRATION__CONFIG__PASSWORD="${JIRA_PASSWORD}"
  )
else
  echo "error: set JIRA_TOKEN, or JIRA_USERNAME and JIRA_PASSWORD" >&2
  exit 2
fi

# `create --dry-run=client -o yaml | apply` creates or updates without printing the values.
kubectl create secret generic jira-server-sync-credentials \
  --namespace "${namespace}" \
  --from-literal=OCEAN__PORT__CLIENT_ID="${PORT_CLIENT_ID}" \
  --from-literal=OCEAN__PORT__CLIENT_SECRET="${PORT_CLIENT_SECRET}" \
  "${auth_args[@]}" \
  --dry-run=client -o yaml | kubectl apply -f -

if [ -n "${JIRA_CA_FILE:-}" ]; then
  kubectl create secret generic jira-server-sync-ca \
    --namespace "${namespace}" \
    --from-file=ca.pem="${JIRA_CA_FILE}" \
    --dry-run=client -o yaml | kubectl apply -f -
fi
