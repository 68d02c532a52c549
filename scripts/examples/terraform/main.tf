# main.tf — a Terraform snippet that launches the web image that lineagefs
# channel `production` hands out.  file() reads the AMI id through the
# channel symlink at plan time, so after the channel moves (or a
# revocation rolls it back) the next `terraform plan` replaces the
# instance with the channel's new image.
#
#   terraform plan -var lineagefs=/srv/images

terraform {
  required_version = ">= 1.3.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "lineagefs" {
  type        = string
  default     = "/srv/images"
  description = "Where the lineagefs registry is mounted on the host that runs Terraform."
}

provider "aws" {
  region = "us-east-1"
}

locals {
  web_ami     = trimspace(file("${var.lineagefs}/buckets/web/channels/production/builds/amazon-ebs.web/artifacts/us-east-1"))
  web_version = trimspace(file("${var.lineagefs}/buckets/web/channels/production/version"))
  web_status  = trimspace(file("${var.lineagefs}/buckets/web/channels/production/status"))
}

resource "aws_instance" "web" {
  ami           = local.web_ami
  instance_type = "t3.small"

  tags = {
    Name         = "web"
    ImageVersion = local.web_version
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = local.web_status != "revoked"
      error_message = "buckets/web/channels/production points at a revoked image."
    }
  }
}

output "web_ami" {
  value = local.web_ami
}
