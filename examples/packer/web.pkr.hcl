# Build a qcow2 with QEMU, then hand it to imagedrop: the post-processor checks the disk and its
# manifest locally, uploads both (the manifest last), and waits for the ECS import. A failed or
# rejected import fails the Packer build (imagedrop exits non-zero).
#
#   packer init . && packer build -var bucket=my-imagedrop-bucket .
#
# Credentials come from the standard Alibaba Cloud chain (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET,
# or a profile in ~/.aliyun/config.json).

packer {
  required_plugins {
    qemu = {
      source  = "github.com/hashicorp/qemu"
      version = ">= 1.1.0"
    }
  }
}

variable "bucket" {
  type    = string
  default = "my-imagedrop-bucket"
}

variable "region" {
  type    = string
  default = "cn-hangzhou"
}

variable "iso_url" {
  type    = string
  default = "https://releases.ubuntu.com/24.04/ubuntu-24.04.1-live-server-amd64.iso"
}

variable "iso_checksum" {
  type    = string
  default = "file:https://releases.ubuntu.com/24.04/SHA256SUMS"
}

source "qemu" "web" {
  iso_url          = var.iso_url
  iso_checksum     = var.iso_checksum
  output_directory = "output-web"
  vm_name          = "web.qcow2"
  format           = "qcow2"
  disk_size        = "20G"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  accelerator      = "kvm"
  headless         = true
  http_directory   = "http"
  ssh_username     = "ubuntu"
  ssh_password     = "ubuntu"
  ssh_timeout      = "30m"
  shutdown_command = "echo 'ubuntu' | sudo -S shutdown -P now"
  boot_wait        = "5s"
  boot_command     = ["e<wait><down><down><down><end> autoinstall ds=nocloud-net\\;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/<F10>"]
}

build {
  sources = ["source.qemu.web"]

  # ECS needs cloud-init and the virtio drivers; the image check reports what is missing.
  provisioner "shell" {
    inline = ["sudo apt-get update", "sudo apt-get install -y cloud-init", "sudo cloud-init clean"]
  }

  post-processor "shell-local" {
    environment_vars = ["IMAGEDROP_BUCKET=${var.bucket}", "IMAGEDROP_REGION=${var.region}"]
    inline = [
      "imagedrop push output-web/web.qcow2 --manifest web.qcow2.json --wait",
    ]
  }
}
