import { Type } from 'typebox';

/** Small builders the OpenAPI document's named schemas share. */

/** An optional string with its description. */
export const text = (description: string) => Type.Optional(Type.String({ description }));
/** One of a few strings, as a plain `enum`: clients generate a string union from it. */
export const oneOf = (values: readonly string[], description?: string) =>
  Type.Unsafe<string>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

/**
 * A reference to a named schema of `components.schemas`, for schemas that are themselves among them (declared
 * before `componentSchemas`, which names them all, so they cannot take its typed names).
 */
export function componentRefOf(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}
