#!/usr/bin/env bash
# Set up pvmon on a fresh Debian or Ubuntu machine: Mosquitto and InfluxDB from apt
# (skipping what is already installed), then a Python virtual environment in .venv with
# the project and its development tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "setup: no apt-get here; install $* with your package manager" >&2
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then "${SUDO[@]}" apt-get update -qq; apt_updated=1; fi
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$@" </dev/null
}
install_missing() {
  # install_missing WHY WHAT PACKAGE...: install the packages found missing (none: say so).
  local why=$1 what=$2
  shift 2
  if [ "$#" -gt 0 ]; then
    apt_install "$@" || echo "setup: could not install $*: $why" >&2
  else
    echo "setup: $what are installed"
  fi
}
has_candidate() {
  # grep reads everything: with -q it may exit first, and apt-cache's SIGPIPE would then fail
  # the pipeline under pipefail although the package is there.
  apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null
}

# --- the broker --------------------------------------------------------------------------
if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then
  echo "setup: mosquitto is installed"
else
  apt_install mosquitto
fi

# --- InfluxDB ----------------------------------------------------------------------------
if command -v influxd >/dev/null; then
  echo "setup: influxd is installed ($(influxd version 2>/dev/null | head -1))"
else
  [ "$apt_updated" = 0 ] && command -v apt-get >/dev/null && { "${SUDO[@]}" apt-get update -qq; apt_updated=1; }
  if has_candidate influxdb; then
    apt_install influxdb
  else
    cat >&2 <<'MSG'
setup: this distribution has no 'influxdb' package (Debian 12 ships 1.6.7; newer releases
       dropped it). pvmon needs an InfluxDB that serves the 1.x HTTP API. Choose one:
         - InfluxData's own packages: https://docs.influxdata.com/influxdb/v1/introduction/install/
         - an existing server: export PVMON_INFLUX_URL=http://host:8086 (2.x: also set
           PVMON_INFLUX_TOKEN and PVMON_INFLUX_ORG)
         - docker compose up (docker-compose.yml runs InfluxDB, Mosquitto and PostgreSQL)
       Continuing with the Python environment.
MSG
  fi
fi

# --- a headless browser for the dashboard tests ---------------------------------------------
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "setup: chromium and chromedriver are installed"
else
  apt_install chromium chromium-driver fonts-noto-cjk ||
    echo "setup: no chromium here; the browser tests need it (Debian: chromium chromium-driver)" >&2
fi

# --- PDF: WeasyPrint's libraries, the CJK fonts the sheets are set in, poppler for the tests --
pdf_packages=()
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || pdf_packages+=(fonts-noto-cjk)
dpkg -s libpango-1.0-0 >/dev/null 2>&1 || pdf_packages+=(libpango-1.0-0)
dpkg -s libpangoft2-1.0-0 >/dev/null 2>&1 || pdf_packages+=(libpangoft2-1.0-0)
dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 || pdf_packages+=(libharfbuzz-subset0)
command -v pdffonts >/dev/null || pdf_packages+=(poppler-utils)
install_missing "disclosure PDFs need them" "PDF libraries, CJK fonts and poppler" \
  "${pdf_packages[@]}"

# --- production: systemd-analyze checks the generated units; pg_dump backs up PostgreSQL --
ops_packages=()
command -v systemd-analyze >/dev/null || ops_packages+=(systemd)
command -v pg_dump >/dev/null || ops_packages+=(postgresql-client)
install_missing "unit checks and PostgreSQL backups need them" "systemd-analyze and pg_dump" \
  "${ops_packages[@]}"

# --- benchmarks: wrk loads the API (bench/api.py) at little CPU of its own -----------------
if command -v wrk >/dev/null; then
  echo "setup: wrk is installed"
else
  apt_install wrk || echo "setup: no wrk here; bench/api.py needs it (Debian: wrk)" >&2
fi

# --- Python ------------------------------------------------------------------------------
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  apt_install python3.11 python3.11-venv
  python=python3.11
fi
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  apt_install "python${version}-venv" || apt_install python3-venv
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

echo
echo "setup: done. Run the whole system with:  .venv/bin/pvmon up"
echo "       and the tests with:               .venv/bin/pytest"
