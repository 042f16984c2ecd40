# Quickstart: a bridge network with NAT and a busybox web container on this machine, no
# SSH needed. The image comes from a local archive (no registry, no internet):
#   bash scripts/build-test-image.sh /var/tmp/tsinfra-busybox-oci.tar
#   tsinfra plan examples/quickstart
#   tsinfra apply --auto-approve examples/quickstart
#   curl http://10.213.250.1:8080/        (the port mapping, from this machine)
#   tsinfra exec container.web --dir examples/quickstart -- ps
#   tsinfra destroy --auto-approve examples/quickstart

variable "subnet" {
  type        = string
  default     = "10.213.250.0/24"
  description = "Address range of the quickstart network."

  validation {
    condition     = cidrhost(var.subnet, 0) == split("/", var.subnet)[0]
    error_message = "The subnet must be a network address such as 10.213.250.0/24."
  }
}

variable "image_archive" {
  type        = string
  default     = "/var/tmp/tsinfra-busybox-oci.tar"
  description = "OCI archive of the busybox image (scripts/build-test-image.sh makes one)."
}

locals {
  prefix = "quickstart"
}

host "local" {
  transport = "local"
}

resource "network" "front" {
  host   = host.local
  driver = "bridge"
  name   = "${local.prefix}-front"
  subnet = var.subnet
  mtu    = 1500
  nat    = true
}

resource "image" "busybox" {
  host   = host.local
  source = "oci-archive:${var.image_archive}"
}

resource "container" "web" {
  host    = host.local
  image   = image.busybox.id
  command = ["sh", "-c", "mkdir -p /www && echo 'hello from tsinfra' > /www/index.html && exec httpd -f -p 80 -h /www"]
  env     = { TZ = "UTC" }

  resources {
    memory     = "64M"
    pids_limit = 64
    cpu_shares = 512
  }

  network {
    id      = network.front.id
    aliases = ["www"]
  }

  port {
    host_port      = 8080
    container_port = 80
  }

  restart {
    policy      = "on-failure"
    max_retries = 5
  }

  capabilities {
    drop = ["ALL"]
    add  = ["NET_BIND_SERVICE", "SETUID", "SETGID"]
  }

  # httpd is pid 1 and ignores SIGTERM: stop it with SIGKILL after one second.
  stop_timeout = "1s"
}

output "bridge" {
  value = network.front.bridge
}

output "web_ip" {
  value = container.web.ip_address
}
