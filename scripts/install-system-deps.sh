#!/usr/bin/env bash
# System packages the build needs besides Python (Debian/Ubuntu): Chromium (PDFs and the browser
# tests, driven by Playwright), poppler-utils (pdftotext/pdftoppm: PDF tests and the privacy scan) and
# fonts that have every accented letter (ñ) for the PDFs. Idempotent: installs only what is missing;
# as root (CI) or through sudo. Does nothing, and says so, when everything is present.
set -euo pipefail

PACKAGES=(chromium poppler-utils fonts-liberation fonts-dejavu-core)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages already present: ${PACKAGES[*]}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing ${missing[*]}, and there is no apt-get: install them with this system's package manager" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "missing ${missing[*]}: run this script as root (or install sudo)" >&2
    exit 1
  fi
fi

# Another apt or dpkg run (a second set-up started at the same time, unattended upgrades) holds the package
# locks for a while: wait for them, up to 10 minutes, rather than fail.
WAIT=(-o DPkg::Lock::Timeout=600)
echo "installing: ${missing[*]}"
"${SUDO[@]}" apt-get "${WAIT[@]}" update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${WAIT[@]}" install -y --no-install-recommends "${missing[@]}"
