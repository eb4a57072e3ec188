#!/usr/bin/env bash
# Debian packages the test suite runs as real programs, installed when missing.
#
#   prometheus               promtool (rule checks, rule unit tests) and the Prometheus server
#                            the end-to-end alerting test starts on 127.0.0.1
#   prometheus-alertmanager  amtool (config checks) and the Alertmanager server of the same test
#   systemd                  systemd-analyze (verify and security of deploy/systemd/riskmon.service)
#   chromium                 headless Chromium: the backtest report's layout at 1400 px
#
# Python tools (check-jsonschema, yamllint, kubernetes-validate, hadolint, kubectl for kustomize)
# come from pyproject.toml's `test` extra, not from here.
#
# Idempotent: installs only what is missing, runs `apt-get update` at most once, never prompts.
# Needs root (as in CI) only when something is missing. Services are not started by it.
set -euo pipefail

# command -> Debian package that provides it
declare -A provider=(
    [promtool]=prometheus
    [prometheus]=prometheus
    [amtool]=prometheus-alertmanager
    [prometheus-alertmanager]=prometheus-alertmanager
    [systemd-analyze]=systemd
    [chromium]=chromium
)

missing=()
for cmd in "${!provider[@]}"; do
    if ! command -v "$cmd" >/dev/null 2>&1; then
        pkg=${provider[$cmd]}
        [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "test-tools: all present (promtool, prometheus, amtool, prometheus-alertmanager, systemd-analyze, chromium)"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "test-tools: missing Debian packages: ${missing[*]}; run this script as root" >&2
    exit 1
fi

echo "test-tools: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
