#!/usr/bin/env bash
# Debian packages the test suite needs: a Secret Service (gnome-keyring in a D-Bus session),
# a tray host under Xvfb (trayer, dunst, GTK/AppIndicator introspection for pystray), X
# tooling for clicks and screenshots, and openssl. Idempotent; needs root (or sudo).
set -euo pipefail
PKGS=(
  gnome-keyring dbus dbus-x11 libsecret-tools
  xvfb xdotool trayer imagemagick dunst x11-utils
  gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 libgirepository1.0-dev libcairo2-dev pkg-config
  openssl
  # tests/test_tray_login.py: the desktop's terminal for Log in…
  xterm
  # tray tests: dex runs XDG autostart entries as a session would, desktop-file-validate checks
  # the autostart entry, gcc builds tests/wallshift.c (a wall-clock jump, as after a sleep),
  # xdg-open (with file for MIME types) serves "Open log", DejaVu renders the menus' text
  dex desktop-file-utils gcc libc6-dev xdg-utils file fonts-dejavu-core
  # tests/test_installed_deb.py: packaging/build.py deb compiles Briefcase's stub and packs a .deb
  make python3-dev python3-venv dpkg-dev
  # tests/test_pipx.py
  pipx
  # tests/test_completion.py: the generated scripts run in the real shells
  zsh fish
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
