#!/usr/bin/env bash
# Install Debian's Chromium for the real-browser report test (tests/test_browser_reports.py).
# A no-op when a Chromium is already on PATH. Needs root (or sudo) the first time; never downloads a
# browser from anywhere but the distribution's package repository.
set -euo pipefail

for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then
    echo "install-chromium: $candidate already installed ($(command -v "$candidate"))"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install Chromium with your package manager (the browser test skips without it)" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: not root and no sudo; the browser test will skip" >&2
    exit 0
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium
echo "install-chromium: installed $(command -v chromium)"
