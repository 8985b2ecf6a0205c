# Build a qcow2 with QEMU from Ubuntu's cloud image, then hand it to imagedrop: the post-processor
# checks the disk and its manifest locally, uploads both (the manifest last), waits for the ECS
# import and writes the result where the next step reads it:
#   imagedrop-result.json   the import's status record (state, image_id, region, fixes, …)
#   image-id                the new ECS image id alone
# A failed or rejected import fails the Packer build (imagedrop exits non-zero).
#
#   packer init . && packer build -var bucket=my-imagedrop-bucket .
#
# Needs: Packer 1.7 or later (the qemu plugin is installed by `packer init`), QEMU with KVM,
# xorriso or genisoimage (for the cloud-init seed CD), and `imagedrop` (pip install
# 'imagedrop[cli]'). Credentials come from the standard Alibaba Cloud chain
# (ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, or a profile in ~/.aliyun/config.json).

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

variable "base_image_url" {
  type    = string
  default = "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"
}

variable "base_image_checksum" {
  type    = string
  default = "file:https://cloud-images.ubuntu.com/noble/current/SHA256SUMS"
}

source "qemu" "web" {
  # Start from the cloud image itself: no installer, no boot keystrokes, no files to serve.
  iso_url          = var.base_image_url
  iso_checksum     = var.base_image_checksum
  disk_image       = true
  disk_size        = "20G"
  format           = "qcow2"
  output_directory = "output-web"
  vm_name          = "web.qcow2"
  disk_interface   = "virtio"
  net_device       = "virtio-net"
  accelerator      = "kvm"
  headless         = true

  # A NoCloud seed on a CD: cloud-init in the image creates the user Packer logs in as.
  cd_label = "cidata"
  cd_content = {
    "meta-data" = "instance-id: packer-web\nlocal-hostname: web\n"
    "user-data" = <<-EOT
      #cloud-config
      ssh_pwauth: true
      users:
        - name: packer
          plain_text_passwd: packer-build-only
          lock_passwd: false
          sudo: ALL=(ALL) NOPASSWD:ALL
          shell: /bin/bash
    EOT
  }

  ssh_username     = "packer"
  ssh_password     = "packer-build-only"
  ssh_timeout      = "20m"
  shutdown_command = "sudo shutdown -P now"
}

build {
  sources = ["source.qemu.web"]

  # ECS needs cloud-init and the virtio drivers; imagedrop's image check reports what is missing.
  # The build user goes: ECS sets users and keys through cloud-init at first boot.
  provisioner "shell" {
    inline = [
      "cloud-init status --wait || true",
      "sudo apt-get update",
      "sudo apt-get install -y cloud-init",
      "sudo cloud-init clean --logs",
      "sudo passwd --lock packer",
    ]
  }

  post-processor "shell-local" {
    environment_vars = ["IMAGEDROP_BUCKET=${var.bucket}", "IMAGEDROP_REGION=${var.region}"]
    inline = [
      "imagedrop push output-web/web.qcow2 --manifest web.qcow2.json --wait --json > imagedrop-result.json",
      "python3 -c 'import json; print(json.load(open(\"imagedrop-result.json\"))[\"image_id\"])' > image-id",
      "echo \"imagedrop: ECS image $(cat image-id) in ${var.region}\"",
    ]
  }
}
