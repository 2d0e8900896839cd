import type { VmPackage } from '../service-definition';

/**
 * The apt form of a package at a service's version: `name=[epoch:]version*`. apt (and Ansible's
 * apt module, which matches the pattern with fnmatch against the full Debian version) compares
 * versions with their epoch, so the epoch is part of the pattern, and the `*` matches the Debian
 * revision (`5:5.0.9-1+deb10u1`) the site's repository builds the version with.
 */
export function aptPackageSpec(pkg: VmPackage, version: string): string {
  return `${pkg.name}=${aptVersionPattern(pkg, version)}`;
}

/** The version pattern of {@link aptPackageSpec}: `[epoch:]version*`. */
export function aptVersionPattern(pkg: VmPackage, version: string): string {
  return `${pkg.epoch === undefined ? '' : `${pkg.epoch}:`}${version}*`;
}
