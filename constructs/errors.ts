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
