/**
 * The boundary between handlebars (synth time) and Jinja (run time), which both use `{{ }}`.
 *
 * A catalog VM template (`catalog/<service>/vm/*.hbs`) is rendered by handlebars at synth time
 * into a Jinja template that Ansible's template module renders on the host:
 * - Jinja expressions are written `\{{ var }}` in the `.hbs` file: handlebars' escape leaves
 *   `{{ var }}` in its output for Jinja. Jinja statements (`{% %}`) and comments pass as they are.
 * - Every value handlebars inserts is escaped for Jinja first (`jinjaSafe`), so a setting such
 *   as `{{ lookup('pipe', 'id') }}` comes out on the host as that text, never evaluated.
 */

/** `text` with each `{` that would open a Jinja tag written as the Jinja expression `{{ '{' }}`. */
export function jinjaLiteral(text: string): string {
  return text.replace(/\{(?=[{%#])/g, "{{ '{' }}");
}

/** `value` with every string in it (keys included) made a Jinja literal. */
export function jinjaSafe<T>(value: T): T {
  if (typeof value === 'string') return jinjaLiteral(value) as T;
  if (Array.isArray(value)) return value.map((v) => jinjaSafe(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [jinjaLiteral(k), jinjaSafe(v)])) as T;
  }
  return value;
}
