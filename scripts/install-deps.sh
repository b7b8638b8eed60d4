#!/usr/bin/env bash
# Installs the Debian 12 packages nines builds and tests with. Idempotent: it asks dpkg what is
# present and runs apt-get (update, then install) only when something is missing.
# Usage: scripts/install-deps.sh
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config ccache git ca-certificates curl openssl
  prometheus-cpp-dev libboost-dev libssl-dev librocksdb-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsnappy-dev libprotobuf-dev protobuf-compiler
  libhowardhinnant-date-dev libre2-dev rapidjson-dev
  # alerting/: email over SMTP (libcurl); tests/alerting: a real SMTP server (aiosmtpd) and a
  # real iCalendar parser for the on-call feeds (python3-icalendar).
  libcurl4-openssl-dev python3-aiosmtpd python3-icalendar
  # fuzz/run.sh: clang with libFuzzer and the sanitizer runtimes (libclang_rt.fuzzer).
  clang libclang-rt-14-dev
  # Interoperability peers that tests start on loopback (their own config and data dirs).
  prometheus prometheus-blackbox-exporter prometheus-alertmanager nginx-light dnsmasq-base
  # systemd-analyze checks the units in deploy/systemd (e2e.DeploymentE2eTest).
  systemd
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
