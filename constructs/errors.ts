/**
 * A mistake in the user's input: a site definition, a catalog file or a command-line option.
 *
 * The CLI prints these without a stack trace and exits 1; any other error is a bug and keeps
 * its stack. It lives in `constructs/` because constructs throw it and must not import the
 * engine.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** Several user mistakes found in one pass, reported together. */
export class UserErrors extends UserError {
  constructor(public readonly errors: readonly UserError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'UserErrors';
  }

  /** Throws when `errors` is not empty: one error as itself, several as a `UserErrors`. */
  static throwIfAny(errors: readonly UserError[]): void {
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new UserErrors(errors);
  }
}

/** An error about the construct at `path`: `acme/prod/elasticsearch: nodes must be ...`. */
export function errorAt(path: string, message: string): UserError {
  return new UserError(`${path}: ${message}`);
}

/**
 * A value received, as an error shows it: JSON cut at 60 characters, or what an object is
 * (`a HostGroup`) when it is an instance of a class, which JSON would show badly or not at all.
 */
export function shownValue(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    if (name !== undefined && name !== 'Object') return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/**
 * A value received where a string was expected, as an error shows it: a string whole, as JSON
 * (its length may be what is wrong), anything else as {@link shownValue} (a construct given
 * for a name is `an Environment`, where JSON would fail on its cycles).
 */
export function receivedValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : shownValue(value);
}
