# Storage: an LVM volume group on a spare disk of this machine, a thin pool, a linear
# volume with an xfs filesystem, a thin volume with ext4 and a snapshot of it. Sizes
# written as a share of the group ("20%VG") are resolved to bytes when the plan reads
# the host's storage, and shown both ways:
#   tsinfra plan examples/storage -var data_disk=/dev/vdb
#   tsinfra apply --auto-approve examples/storage -var data_disk=/dev/vdb
# The disk must be blank: tsinfra refuses a device holding a filesystem or belonging to
# another volume group, and never wipes one. `storage.infra.ts` adds a thin-pool volume
# for containers and a raw volume from TypeScript.

variable "data_disk" {
  type        = string
  default     = "/dev/vdb"
  description = "A blank disk (or /dev/disk/by-id/... link) for the volume group."
}

host "local" {
  transport = "local"
}

resource "volume_group" "data" {
  host             = host.local
  name             = "tsdata"
  physical_volumes = [var.data_disk]
}

resource "thin_pool" "pool" {
  host             = host.local
  volume_group     = volume_group.data.id
  size             = "50%VG"
  chunk_size       = "64K"
  overcommit_ratio = 3
}

resource "logical_volume" "db" {
  host         = host.local
  volume_group = volume_group.data.id
  size         = "20%VG"

  filesystem {
    type          = "xfs"
    label         = "db"
    mount_options = ["noatime"]
  }
}

resource "logical_volume" "scratch" {
  host         = host.local
  thin_pool    = thin_pool.pool.id
  virtual_size = "2G"

  filesystem {
    type = "ext4"
  }
}

resource "logical_volume" "scratch_snapshot" {
  host        = host.local
  snapshot_of = logical_volume.scratch.id
}

output "db_device" {
  value = logical_volume.db.path
}

output "pool_bytes" {
  value = thin_pool.pool.size_bytes
}
