#!/bin/sh
# Records gobgpd-3.10-live.pcap: a real BMP session on loopback from gobgpd 3.10 (AS 65001,
# peering iBGP with a second gobgpd that announces and withdraws routes) to pmbmpd 1.7.7,
# captured with tcpdump; pmbmpd's msglog of that live run is kept as the expected output.
# Usage: make-gobgpd-capture.sh OUTDIR   (needs root for tcpdump, gobgpd, gobgp, pmbmpd)
set -eu
out=${1:?outdir}
work=$(mktemp -d)
P=17901; A=17911; B=17912; GA=17921; GB=17922
conf() { # as id port peerport passive bmp
  cat <<C
[global.config]
  as = 65001
  router-id = "$1"
  port = $2
  local-address-list = ["127.0.0.1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    remote-port = $3
    passive-mode = $4
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
C
  if [ "$5" = bmp ]; then
    printf '[[bmp-servers]]\n  [bmp-servers.config]\n    address = "127.0.0.1"\n    port = %s\n    route-monitoring-policy = "pre-policy"\n' $P
  fi
}
conf 10.255.0.1 $A $B true bmp > $work/a.toml
conf 10.255.0.2 $B $A false no > $work/b.toml
cat > $work/pmbmpd.conf <<C
daemonize: false
bmp_daemon_ip: 127.0.0.1
bmp_daemon_port: $P
bmp_daemon_msglog_file: $work/msglog-\$peer_src_ip.json
bmp_daemon_msglog_output: json
logfile: $work/pmbmpd.log
C
tcpdump -i lo -s 0 -U -w $work/cap.pcap "tcp port $P" 2>/dev/null & TD=$!
pmbmpd -f $work/pmbmpd.conf & PM=$!
sleep 2
gobgpd -f $work/a.toml --api-hosts 127.0.0.1:$GA --log-level warn >/dev/null 2>&1 & GDA=$!
gobgpd -f $work/b.toml --api-hosts 127.0.0.1:$GB --log-level warn >/dev/null 2>&1 & GDB=$!
i=0; until grep -q peer_up $work/msglog-127_0_0_1.json 2>/dev/null; do sleep 0.5; i=$((i+1)); [ $i -lt 80 ]; done
g() { gobgp -u 127.0.0.1 -p $GB global rib "$@"; }
g -a ipv4 add 10.99.0.0/16 community 65001:7 local-pref 150
g -a ipv4 add 192.0.2.128/25 med 5 aspath 65010,65011
g -a ipv4 add 198.51.100.0/24 large-community 65001:1:2 origin incomplete
g -a ipv4 add 203.0.113.0/24 nexthop 192.0.2.1 community no-export,65001:9
g -a ipv6 add 2001:db8:99::/48 med 20
g -a ipv6 add 2001:db8:aa::/48 community 65001:66
sleep 2
g -a ipv4 del 10.99.0.0/16
g -a ipv6 del 2001:db8:aa::/48
sleep 2
kill $GDB; wait $GDB || true
sleep 2
kill $GDA; wait $GDA || true
sleep 2
kill -9 $PM; wait $PM || true  # pmbmpd 1.7.7 in the foreground ignores SIGTERM
kill $TD; wait $TD || true
cp $work/cap.pcap $out/gobgpd-3.10-live.pcap
cp $work/msglog-127_0_0_1.json $out/gobgpd-3.10-live.pmbmpd.json
ls -l $out/gobgpd-3.10-live.*
rm -rf $work
