#!/usr/bin/env bash
# Installs the real components the test suite runs (Debian packages), only those that are missing.
set -euo pipefail
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# The web page's browser test drives this binary (playwright-core, executablePath /usr/bin/chromium).
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
# script(1) gives the progress-bar test a pseudo-terminal (essential on Debian, absent from some slim images).
command -v script >/dev/null 2>&1 || missing+=(bsdutils)
# The official Python client, a third client of the simulator's conformance tests beside kubectl and client-node.
/usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1 || missing+=(python3-kubernetes)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1; then
  echo "kubectl is not on PATH: the conformance tests run the real kubectl (1.27-1.33)" >&2
  exit 1
fi
