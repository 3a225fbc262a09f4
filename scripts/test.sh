#!/usr/bin/env bash
# The README's test command: runs socklab's tests on a fresh Debian or Ubuntu machine as it is.
#
# The tests need tshark and editcap (socklab's captures are compared with tshark field by field,
# and captures cut or retimed by editcap with tshark's reading of them), python3 (the fixture
# submissions are Python), curl and headless chromium (real clients for the web and proxy labs'
# programs), aiosmtpd (a real SMTP server for the mail client), junitparser (a real JUnit
# consumer for socklab's junit.xml), PyYAML (reads the YAML examples of docs/grading.md), Java
# and npm (the W3C's HTML5 checker, vnu.jar from npm, checks socklab's report.html and
# summary.html), and util-linux's unshare and setpriv (the sandbox and the unprivileged-user
# test). Whatever is missing is installed with apt-get (the Python modules: pip when python3 is
# not Debian's), as root or through sudo, after saying what; a machine without either stops
# here with the list. Then `cargo test`, with this script's arguments (`scripts/test.sh
# --locked`, `scripts/test.sh matrix`).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
# editcap cuts and retimes captures for tests/odd_captures.rs (it comes with tshark, in
# wireshark-common, but a machine can have one without the other).
command -v editcap >/dev/null 2>&1 || need+=(wireshark-common)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "the tests need: ${need[*]}; install them (apt-get install ${need[*]}) or run this as root" >&2
    exit 1
  fi
  echo "installing what the tests need: ${need[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; the tests need no such permission.
  echo "wireshark-common wireshark-common/install-setuid boolean false" \
    | "${sudo[@]}" debconf-set-selections
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Python modules the tests import: Debian's package for Debian's python3, else from PyPI for
# whichever python3 comes first on PATH (pyenv, ...).
# need_module MODULE DEBIAN_PACKAGE PYPI_PACKAGE
need_module() {
  python3 -c "import $1" 2>/dev/null && return
  if [ "$(command -v python3)" = /usr/bin/python3 ]; then
    if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
    echo "installing what the tests need: $2 (apt-get)" >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  else
    echo "installing what the tests need: $3 (pip, for $(command -v python3))" >&2
    python3 -m pip install --quiet --disable-pip-version-check "$3"
  fi
}
# aiosmtpd, a real SMTP server the reference mail client delivers to.
need_module aiosmtpd python3-aiosmtpd aiosmtpd
# junitparser, a real JUnit consumer that reads socklab's junit.xml in tests/autograder_formats.rs.
need_module junitparser python3-junitparser junitparser
# PyYAML, a real YAML reader for docs/examples/*.yml in tests/grading_docs.rs.
need_module yaml python3-yaml pyyaml

# vnu.jar, the W3C's Nu Html Checker, where tests/common/vnu.rs looks for it (a pinned version
# from npm, into the user's cache: nothing global).
vnu_dir="${HOME}/.cache/socklab-tests/vnu"
if [ ! -f "$vnu_dir/node_modules/vnu-jar/build/dist/vnu.jar" ]; then
  echo "installing what the tests need: vnu-jar 26.9.27 (npm, into $vnu_dir)" >&2
  npm install --no-audit --no-fund --silent --prefix "$vnu_dir" vnu-jar@26.9.27
fi
export SOCKLAB_VNU_JAR="$vnu_dir/node_modules/vnu-jar/build/dist/vnu.jar"

echo "tshark: $(tshark --version | head -n 1)" >&2
echo "python3: $(python3 --version)" >&2
echo "curl: $(curl --version | head -n 1)" >&2
echo "chromium: $(chromium --version 2>/dev/null | head -n 1)" >&2
echo "vnu.jar: $(java -jar "$SOCKLAB_VNU_JAR" --version 2>&1 | head -n 1)" >&2
echo "aiosmtpd: $(python3 -c 'import aiosmtpd; print(aiosmtpd.__version__)')" >&2

# socklab's sandbox needs unprivileged user namespaces; say so plainly if the machine has none.
if ! unshare -rn true 2>/dev/null; then
  echo "user namespaces are not available on this machine: socklab's sandbox cannot run" >&2
  echo "(on Ubuntu 24.04: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0)" >&2
  exit 1
fi

exec cargo test "$@"
