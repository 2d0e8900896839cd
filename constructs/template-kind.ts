/**
 * The kind of a template file, from its name. YAML templates (`*.yaml.hbs`, `*.yml.hbs`) insert
 * values only through `{{yaml value}}` and their output is parsed back; text templates insert
 * values as they are.
 */
export type TemplateKind = 'yaml' | 'text';

export function templateKind(file: string): TemplateKind {
  return /\.ya?ml\.hbs$/.test(file) ? 'yaml' : 'text';
}
