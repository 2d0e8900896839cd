import type { KeywordDefinition } from 'ajv';

/** The parts of the ajv module a keyword's code generator uses. */
type AjvCodegen = Pick<typeof import('ajv'), '_' | 'str'>;

/** A keyword ajv does not know, defined when ajv is loaded (only to compile). */
export interface CustomKeyword {
  readonly keyword: string;
  /** Its definition, made with ajv's code generator so that standalone code keeps it. */
  define(ajv: AjvCodegen): KeywordDefinition;
}

/**
 * `"uniqueItemProperties": ["name"]` on an array: no two items may have the same `name` (as
 * the keyword of that name in ajv-keywords). JSON Schema's `uniqueItems` compares whole items,
 * so it cannot say "unique by name"; settings such as Kong's routes need it, as a gateway
 * refuses two routes of one name when it starts.
 */
export const uniqueItemProperties: CustomKeyword = {
  keyword: 'uniqueItemProperties',
  define: ({ _, str }) => ({
    keyword: 'uniqueItemProperties',
    type: 'array',
    schemaType: 'array',
    metaSchema: { type: 'array', items: { type: 'string' }, minItems: 1 },
    error: {
      message: ({ params }) => str`must not have two items with ${params.property} ${params.value}`,
      params: ({ params }) => _`{property: ${params.property}, value: ${params.value}}`,
    },
    code(cxt) {
      const { gen, data, schema } = cxt;
      for (const property of schema as string[]) {
        // The first item whose value is also an earlier item's; items without it are `required`'s concern.
        const at = gen.const('repeated', _`${data}.findIndex((item, i) => item !== null && typeof item == "object" && ${property} in item && ${data}.findIndex((other) => other !== null && typeof other == "object" && other[${property}] === item[${property}]) !== i)`);
        cxt.setParams({ property: _`${property}`, value: _`JSON.stringify(${data}[${at}]?.[${property}])` });
        cxt.fail(_`${at} >= 0`);
      }
    },
  }),
};
