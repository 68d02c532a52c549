# build.pkr.hcl — a Packer template fragment that builds the `web` image on
# top of whatever image `buckets/base/channels/production` hands out, and
# records the result in lineagefs: the `manifest` post-processor writes
# packer-manifest.json with the iteration's fingerprint, its parent (the
# base channel) and the region of the Docker image, and a `shell-local`
# post-processor runs import.sh, which imports that manifest into the
# `web` bucket and moves web's channel to the new iteration.
#
#   packer init . && packer build -var fingerprint=$(git rev-parse --short HEAD) .
#
# It needs the registry mounted on this host (var.lineagefs), the buckets
# `base` and `web`, and base's production channel pointing at an iteration
# with an `amazon-ebs.base` build and a `docker.base` build (the names
# that importing base's own Packer manifest gives them).

packer {
  required_version = ">= 1.9.0"
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0"
    }
    docker = {
      source  = "github.com/hashicorp/docker"
      version = ">= 1.0.8"
    }
  }
}

variable "lineagefs" {
  type        = string
  default     = "/srv/images"
  description = "Where the lineagefs registry is mounted."
}

variable "fingerprint" {
  type        = string
  description = "The iteration's fingerprint in the web bucket: a commit hash is a good one."
}

variable "parent_channel" {
  type        = string
  default     = "buckets/base/channels/production"
  description = "The channel whose image this one is built from; recorded as the parent."
}

variable "channel" {
  type        = string
  default     = "production"
  description = "The channel of the web bucket that import.sh moves to the new iteration."
}

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "copy_regions" {
  type        = list(string)
  default     = ["eu-west-1", "us-west-2"]
  description = "Regions the AMI is copied to; each becomes an artifact of the build."
}

variable "docker_region" {
  type        = string
  default     = "global"
  description = "The region recorded for the Docker image (Docker builds have none of their own)."
}

locals {
  # The base image, read through the channel when Packer starts: the same
  # files any consumer reads, so the build starts from exactly what the
  # channel hands out.
  base       = "${var.lineagefs}/${var.parent_channel}"
  base_ami   = chomp(file("${local.base}/builds/amazon-ebs.base/artifacts/${var.aws_region}"))
  base_image = chomp(file("${local.base}/builds/docker.base/artifacts/global"))
  manifest   = "${path.root}/packer-manifest.json"
}

source "amazon-ebs" "web" {
  region        = var.aws_region
  ami_regions   = var.copy_regions
  source_ami    = local.base_ami
  instance_type = "t3.small"
  ssh_username  = "admin"
  ami_name      = "web-${var.fingerprint}"
  tags = {
    Name        = "web"
    Fingerprint = var.fingerprint
    BaseAMI     = local.base_ami
  }
}

source "docker" "web" {
  # The base image is on this host (base's template commits it); once
  # images are pushed, record and use a repository reference instead.
  image  = local.base_image
  pull   = false
  commit = true
  changes = [
    "LABEL org.opencontainers.image.revision=${var.fingerprint}",
    "CMD [\"/usr/local/bin/web\"]",
  ]
}

build {
  sources = [
    "source.amazon-ebs.web",
    "source.docker.web",
  ]

  provisioner "shell" {
    # The application goes in here; this line only leaves a trace of it.
    inline = ["echo 'web ${var.fingerprint}' > /tmp/web-release"]
  }

  # One chain per build, in this order: Packer appends the build to the
  # manifest, then import.sh imports the run once all of its builds are in.
  post-processors {
    post-processor "manifest" {
      output     = local.manifest
      strip_path = true
      custom_data = {
        fingerprint = var.fingerprint
        parent      = var.parent_channel
        region      = var.docker_region
      }
    }

    post-processor "shell-local" {
      environment_vars = [
        "MNT=${var.lineagefs}",
        "BUCKET=web",
        "CHANNEL=${var.channel}",
        # the number of sources above: import once both builds are in
        "BUILDS=2",
      ]
      inline = ["sh '${path.root}/import.sh' '${local.manifest}'"]
    }
  }
}
