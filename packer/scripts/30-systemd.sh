#!/usr/bin/env bash
# systemd units: spl-env (writes /etc/spl/spl.env from user data), spl-ray (head or
# worker) and spl-app (gunicorn). Enabled here, started at the first boot.
set -euo pipefail

units=(spl-env.service spl-ray.service spl-app.service)
for unit in "${units[@]}"; do
  install -o root -g root -m 0644 "/opt/spl/app/deploy/systemd/${unit}" "/etc/systemd/system/${unit}"
done
systemctl daemon-reload
systemctl enable "${units[@]}"
# Ray's many connections and worker processes need more than the default limits.
cat >/etc/sysctl.d/90-spl.conf <<'CONF'
net.core.somaxconn = 1024
fs.inotify.max_user_watches = 524288
CONF
