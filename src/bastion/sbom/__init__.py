"""Software bills of materials: CycloneDX 1.6 and SPDX 2.3 JSON out, CycloneDX or SPDX in."""
