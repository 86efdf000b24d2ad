#!/bin/sh
# Node tuning, applied by the provisioning job at first boot.
set -e
sysctl -w net.ipv4.tcp_tw_reuse=1
echo 5000 > /proc/sys/net/ipv4/tcp_max_tw_buckets
sysctl -w net.core.somaxconn="$SOMAXCONN"
