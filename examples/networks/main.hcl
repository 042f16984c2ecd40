# Networks across three hosts over SSH: each host's containers on the LAN itself
# (macvlan on eth0), on VLAN 10 of the same cable (macvlan on eth0.10, made by tsinfra),
# and on an overlay (VXLAN) across the hosts where containers find each other by name.
# Put the hosts' addresses in hosts.auto.vars.hcl beside this file
# (hosts = { h1 = "10.0.0.11", h2 = "10.0.0.12", h3 = "10.0.0.13" }), adapt the LAN's
# subnet and ranges below, copy an image archive to each host
# (scripts/build-test-image.sh makes one), then:
#   tsinfra plan examples/networks
#   tsinfra apply --auto-approve examples/networks
#   tsinfra exec container.web --dir examples/networks -- wget -q -O- http://checker:8080/
# The hosts' firewalls must let UDP port 4789 through between their addresses (the
# overlay's tunnels). `networks.infra.ts` adds a second overlay and a VLAN 20 network
# from TypeScript; README.md says more, docs/networks.md explains every attribute.

variable "hosts" {
  type = map(string)
  default = {
    h1 = "192.168.1.11"
    h2 = "192.168.1.12"
    h3 = "192.168.1.13"
  }
  description = "The hosts by name: IPv4 addresses on one LAN segment (also the overlay's underlay)."
}

variable "image_archive" {
  type        = string
  default     = "/var/tmp/tsinfra-busybox-oci.tar"
  description = "OCI archive of the busybox image, on each host (scripts/build-test-image.sh makes one)."
}

locals {
  # Every host allocates container addresses on its own: give each its own part of the
  # LAN (outside the router's DHCP pool), or two hosts hand out the same address.
  lan_ranges = {
    h1 = "192.168.1.64/28"
    h2 = "192.168.1.80/28"
    h3 = "192.168.1.96/28"
  }
  vlan10_ranges = {
    h1 = "10.10.0.64/28"
    h2 = "10.10.0.80/28"
    h3 = "10.10.0.96/28"
  }
}

host "node" {
  for_each         = var.hosts
  address          = each.value
  user             = "root"
  private_key_file = "~/.ssh/id_ed25519"
  known_hosts_file = "~/.ssh/known_hosts"
}

resource "image" "busybox" {
  for_each = var.hosts
  host     = host.node[each.key]
  source   = "oci-archive:${var.image_archive}"
}

# The LAN: containers get addresses of their own next to the hosts, from each host's range.
resource "network" "lan" {
  for_each = local.lan_ranges
  host     = host.node[each.key]
  driver   = "macvlan"
  parent   = "eth0"
  mode     = "bridge"
  subnet   = "192.168.1.0/24"
  gateway  = "192.168.1.1" # the LAN's router
  ip_range = each.value
}

# VLAN 10 on the same cable: tsinfra creates eth0.10 where it is missing (and removes it
# on destroy). The switch port must carry VLAN 10 tagged.
resource "network" "vlan10" {
  for_each = local.vlan10_ranges
  host     = host.node[each.key]
  driver   = "macvlan"
  parent   = "eth0.10"
  vlan     = 10
  subnet   = "10.10.0.0/24"
  gateway  = "10.10.0.1"
  ip_range = each.value
}

# One layer-2 network across the three hosts: each host hands out addresses from its own
# /24 of the subnet (h1 10.90.0.0/24, h2 10.90.1.0/24, h3 10.90.2.0/24, in list order).
resource "overlay_network" "app" {
  hosts  = [host.node["h1"], host.node["h2"], host.node["h3"]]
  subnet = "10.90.0.0/16"
  vni    = 4242
}

# On h1: a web server on the overlay (also known as "www") and on the LAN at a fixed
# address, where any machine of the LAN reaches it (the host itself does not: macvlan).
resource "container" "web" {
  host    = host.node["h1"]
  image   = image.busybox["h1"].id
  command = ["sh", "-c", "mkdir -p /www && echo 'hello from web' > /www/index.html && exec httpd -f -p 80 -h /www"]

  network {
    id      = overlay_network.app.id
    aliases = ["www"]
  }

  network {
    id = network.lan["h1"].id
    ip = "192.168.1.70"
  }

  stop_timeout = "1s"
}

# On h2: on the overlay and on VLAN 10, with an address from h2's part of the VLAN.
resource "container" "worker" {
  host    = host.node["h2"]
  image   = image.busybox["h2"].id
  command = ["sh", "-c", "while true; do wget -q -O- http://www/ || echo 'www unreachable'; sleep 30; done"]

  network {
    id = overlay_network.app.id
  }

  network {
    id = network.vlan10["h2"].id
  }

  stop_timeout = "1s"
}

# On h3: reaches web and worker across the overlay by their names, and serves a status page.
resource "container" "checker" {
  host    = host.node["h3"]
  image   = image.busybox["h3"].id
  command = ["sh", "-c", "mkdir -p /www && httpd -p 8080 -h /www && while true; do { date; ping -c 1 -W 2 worker && wget -q -O- http://web/; } > /www/index.html 2>&1; sleep 30; done"]

  network {
    id = overlay_network.app.id
  }

  stop_timeout = "1s"
}

output "overlay_bridge" {
  value = overlay_network.app.bridge
}

output "web_addresses" {
  value = container.web.ip_addresses
}
