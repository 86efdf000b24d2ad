{ config, lib, ... }:
{
  # The load balancer opens many short connections to the web tier.
  boot.kernel.sysctl = {
    "net.ipv4.ip_local_port_range" = "1024 65000";
    "net.ipv4.tcp_tw_reuse" = 1;
    "net.ipv4.tcp_max_tw_buckets" = lib.mkDefault 5000;
  };
}
