export { UserError, UserErrors, errorAt } from '../constructs/errors';
import { UserError, UserErrors } from '../constructs/errors';

/** Every user error inside `error`, flattened; an empty list when `error` is a bug. */
export function userErrorsOf(error: unknown): UserError[] {
  if (error instanceof UserErrors) return error.errors.flatMap(userErrorsOf);
  if (error instanceof UserError) return [error];
  return [];
}
