# Salt states of the web tier's kernel settings.
net.ipv4.tcp_tw_reuse:
  sysctl.present:
    - value: 1

net.ipv4.tcp_timestamps:
  sysctl.present:
    - value: 0
