#!/usr/bin/env bash
# Leave nothing instance-specific or secret in the image.
set -euo pipefail

# Run-time settings are written at boot from user data; never ship a build-time one.
rm -f /etc/spl/spl.env
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/* /root/.cache
rm -rf /var/lib/spl/ray /var/cache/spl/*
# cloud-init runs again on the instances launched from this image (user data, SSH keys).
cloud-init clean --logs
