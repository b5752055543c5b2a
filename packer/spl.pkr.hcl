# Sentiment Portfolio Lab AMI: Ubuntu LTS + Python venv under /opt/spl + systemd units.
# One image for every instance; whether it is a Ray head or a worker (and where the head,
# the token and the cache are) is decided at boot from EC2 user data, never baked in.
#
#   packer init packer/ && packer build -var region=eu-west-1 packer/
# See packer/README.md.

variable "region" {
  type        = string
  default     = "eu-west-1"
  description = "AWS region to build the AMI in."
}

variable "instance_type" {
  type        = string
  default     = "t3.medium"
  description = "Builder instance type (the AMI runs on any x86_64 type)."
}

variable "version" {
  type        = string
  default     = "0.1.0"
  description = "Application version, recorded in the AMI name and tags."
}

variable "ubuntu_release" {
  type        = string
  default     = "noble-24.04"
  description = "Ubuntu LTS codename-version in Canonical's AMI names."
}

variable "python_version" {
  type        = string
  default     = "3.11"
  description = "Python of the app's virtualenv (must match on every node of a Ray cluster)."
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Optional builder subnet (empty: the default VPC)."
}

locals {
  build_time = formatdate("YYYYMMDD-hhmm", timestamp())
  source_tar = "${path.root}/build/spl-src.tar.gz"
}

source "amazon-ebs" "spl" {
  region          = var.region
  instance_type   = var.instance_type
  subnet_id       = var.subnet_id == "" ? null : var.subnet_id
  ssh_username    = "ubuntu"
  ami_name        = "sentiment-portfolio-lab-${var.version}-${local.build_time}"
  ami_description = "Sentiment Portfolio Lab ${var.version}: dashboard + Ray node (role from user data)"

  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-${var.ubuntu_release}-amd64-server-*"
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["099720108477"] # Canonical
    most_recent = true
  }

  # IMDSv2 is required on the launch template (packer/README.md), not here: Debian's
  # Packer 1.6.6, which CI validates with, predates the builder's imds options.

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = 20
    volume_type           = "gp3"
    throughput            = 125
    iops                  = 3000
    delete_on_termination = true
  }

  tags = {
    Name    = "sentiment-portfolio-lab"
    Version = var.version
    Base    = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.spl"]

  # Ship exactly the committed tree (no .env, no local data, no caches).
  provisioner "shell-local" {
    inline = [
      "mkdir -p '${path.root}/build'",
      "git -C '${path.root}/..' archive --format=tar.gz -o '${local.source_tar}' HEAD",
    ]
  }

  provisioner "file" {
    source      = local.source_tar
    destination = "/tmp/spl-src.tar.gz"
    generated   = true # made by the shell-local step above
  }

  provisioner "shell" {
    execute_command = "sudo -E bash '{{ .Path }}'"
    environment_vars = [
      "SPL_VERSION=${var.version}",
      "PYTHON_VERSION=${var.python_version}",
      "DEBIAN_FRONTEND=noninteractive",
    ]
    scripts = [
      "${path.root}/scripts/10-base.sh",
      "${path.root}/scripts/20-app.sh",
      "${path.root}/scripts/30-systemd.sh",
      "${path.root}/scripts/90-cleanup.sh",
    ]
  }

  post-processor "manifest" {
    output     = "${path.root}/build/manifest.json"
    strip_path = true
  }
}
