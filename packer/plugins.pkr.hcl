# Plugin requirements, kept apart from spl.pkr.hcl so that a Packer without plugin
# management (Debian's 1.6.6, which has amazon-ebs built in) can still validate the
# template alone. With Packer >= 1.7 run `packer init packer/` once before building.
packer {
  required_version = ">= 1.7.0"
  required_plugins {
    amazon = {
      version = ">= 1.3.0"
      source  = "github.com/hashicorp/amazon"
    }
  }
}
