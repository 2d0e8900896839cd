import type { VmPackage } from '../service-definition';

/** The apt form of a package at a service's version: `name=<pattern>`, see {@link aptVersionPattern}. */
export function aptPackageSpec(pkg: VmPackage, version: string): string {
  return `${pkg.name}=${aptVersionPattern(pkg, version)}`;
}

/**
 * The apt version pattern that matches the service's upstream `version` and nothing else:
 * `[epoch:]version-*` (any Debian revision: `5:5.0.9-*` matches `5:5.0.9-1` and
 * `5:5.0.9-1+deb10u1`), or `[epoch:]version` exactly for a package whose versions carry no
 * Debian revision (`revision: false`, Elastic's `7.8.1`). Not `5.0.90`, `5.0.91-1`, a
 * pre-release (`5.0.9~rc1` sorts before `5.0.9`: it is not that version) nor a repacked
 * upstream (`5.0.9+dfsg-1`, whose upstream version is `5.0.9+dfsg`).
 *
 * Why this form. Ansible's apt module uses the pattern twice: as an apt Version pin
 * (python-apt `Policy.create_pin`, priority 1001) to choose the candidate, then with Python's
 * fnmatch on the candidate and the installed version. apt's pin drops one trailing `*` and
 * compares the rest as a literal prefix or as an fnmatch pattern (apt-pkg/versionmatch.cc), so
 * `5.0.9*` pins `5.0.90` too, and a character class before the star (`5.0.9[-+~]*`) pins
 * nothing: the candidate falls back to the newest version (`5.0.10-1`), which fnmatch then
 * rejects ("no available installation candidate") though `5.0.9-1` is there. A plain prefix
 * ending in `-*` means the same to both. No one fnmatch pattern matches `5.0.9` and `5.0.9-1`
 * but not `5.0.90` (fnmatch has no "end or"), so whether the versions carry a revision is the
 * catalog's to say. Resolving the version at run time (`apt-cache madison` in a pre-task)
 * would also do, but then the pattern would not be known at synth time, where
 * `artifacts.lock.json` lists it for offline mirrors and reviewers see it in the diff.
 */
export function aptVersionPattern(pkg: VmPackage, version: string): string {
  return `${pkg.epoch === undefined ? '' : `${pkg.epoch}:`}${version}${pkg.revision === false ? '' : '-*'}`;
}
