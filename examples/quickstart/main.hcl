# Quickstart: one bridge network with NAT on this machine, no SSH needed.
#   tsinfra plan examples/quickstart
#   tsinfra apply --auto-approve examples/quickstart
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

output "bridge" {
  value = network.front.bridge
}
