# Shared by the end-to-end tests of a switched fleet (spd_push_test,
# plan_apply_test): gateways on one bridge with the controller, a host with
# a private site behind each gateway. Needs lib.sh, and AGENT_BIN and
# IPSECCTL_BIN set.
#
#   site 198.18.<10i>.0/24 -- gw-i 198.18.0.i --+
#                                               sw (bridge) -- ctl 198.18.0.254 (controller)

# switched_fleet: the bridge and the controller's namespace on it.
switched_fleet() {
  ns sw
  nsx sw ip link add br0 type bridge
  nsx sw ip link set br0 up
  on_switch ctl 198.18.0.254
}
# in_sync N: N nodes report their pushed SPD applied.
in_sync() { [[ $(ctl nodes list -o json | grep -o '"inSync": true\|"in_sync": true' | wc -l) == "$1" ]]; }

# on_switch NAME ADDR: NAME's leg on the bridge.
on_switch() {
  ns "$1"
  ip link add "e$1" netns "$E2E_ID-$1" type veth peer name "p$1" netns "$E2E_ID-sw"
  nsx sw ip link set "p$1" master br0 up
  nsx "$1" ip addr add "$2/24" dev "e$1"
  nsx "$1" ip link set "e$1" up
}

# gateway LETTER INDEX [v6]: gw-LETTER at 198.18.0.INDEX with a host hLETTER
# on 198.18.<10*INDEX>.2 (and fd00:<10*INDEX>::2).
gateway() {
  local g=$1 i=$2 v6=${3:-} net=$((10 * $2))
  on_switch "$g" "198.18.0.$i"
  ns "h$g"
  link "h$g" "198.18.$net.2/24" "$g" "198.18.$net.1/24"
  nsx "h$g" ip route add default via "198.18.$net.1"
  nsx "$g" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  if [[ -n $v6 ]]; then
    nsx "h$g" ip addr add "fd00:$net::2/64" dev "v$g" nodad
    nsx "$g" ip addr add "fd00:$net::1/64" dev "vh$g" nodad
    nsx "h$g" ip -6 route add default via "fd00:$net::1"
  fi
  cat >"$E2E_DIR/gw-$g.conf" <<CONF
node_name: "gw-$g"
$(agent_tls "gw-$g" "198.18.0.$i")
controller: "198.18.0.254:50051"
addresses: "198.18.0.$i"
esp { tun_name: "ikl0" }
report_interval_seconds: 1
CONF
  bg "$g" "agent-gw-$g" "$AGENT_BIN" --config="$E2E_DIR/gw-$g.conf"
  wait_for 10 nsx "$g" ip link show ikl0 || fail "agent gw-$g did not create ikl0"
  nsx "$g" ip link set ikl0 up
}

