/**
 * Why `name` cannot be a git branch siteforge pushes to, or undefined when it can: git's
 * `check-ref-format` rules, plus no leading "-" (git would read it as an option) and ASCII
 * only. Used wherever a branch name comes from a site definition or an option.
 */
export function gitBranchProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string, got ${typeof name}`;
  if (name.length === 0) return 'must not be empty';
  if (name.length > 200) return `must be at most 200 characters, got ${name.length}`;
  if (name.startsWith('-')) return 'must not start with "-" (git would read it as an option)';
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) return 'must use only ASCII letters, digits and "._/-"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'must not start or end with "/" or contain "//"';
  if (name.endsWith('.') || name.includes('..') || name.endsWith('.lock') || name.split('/').some((c) => c.startsWith('.'))) {
    return 'must not contain "..", end with "." or ".lock", or have a component starting with "."';
  }
  if (name === 'HEAD' || name === '@') return `must not be ${name}`;
  return undefined;
}
