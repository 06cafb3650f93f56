/**
 * A small checker for "the response matches the OpenAPI schema": resolves $refs and checks types,
 * required and unexpected properties, nullability, enums and date-time strings. Enough for the
 * shapes this API documents; returns a list of problems (empty when the value conforms).
 */
export type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  nullable?: boolean;
  enum?: unknown[];
  format?: string;
  oneOf?: Schema[];
  allOf?: Schema[];
};

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, { content?: Record<string, { schema: Schema; example?: unknown }> }>;
        requestBody?: unknown;
        security?: unknown[];
      }
    >
  >;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, unknown>> };
}

/**
 * `nullable` as OpenAPI 3.0.3 defines it: it adds null to the values of the `type` in the same
 * schema, and nothing else; every other constraint (`allOf`, `$ref`, `oneOf`) still applies to
 * null. So `{ nullable: true, allOf: [{ $ref }] }` refuses null, as real validators do.
 */
export function checkAgainstSchema(doc: OpenApiDocument, schema: Schema, value: unknown, path = '$'): string[] {
  if (schema.$ref)
    return checkAgainstSchema(
      doc,
      doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')],
      value,
      path,
    );
  if (schema.allOf) return schema.allOf.flatMap((s) => checkAgainstSchema(doc, s, value, path));
  if (schema.oneOf)
    return schema.oneOf.some((s) => checkAgainstSchema(doc, s, value, path).length === 0)
      ? []
      : [`${path}: matches none of oneOf`];
  if (value === null) return schema.nullable && schema.type ? [] : [`${path}: null but not nullable`];
  if (schema.enum && !schema.enum.includes(value)) return [`${path}: ${JSON.stringify(value)} not in enum`];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected string`];
      if (schema.format === 'date-time' && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(value))
        return [`${path}: not an ISO-8601 UTC time`];
      return [];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected number`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${path}: expected integer`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected array`];
      return value.flatMap((item, i) => checkAgainstSchema(doc, schema.items ?? {}, item, `${path}[${i}]`));
    default: {
      if (!schema.properties) return [];
      if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected object`];
      const obj = value as Record<string, unknown>;
      const problems: string[] = [];
      for (const key of schema.required ?? []) if (!(key in obj)) problems.push(`${path}.${key}: missing`);
      for (const key of Object.keys(obj)) {
        const prop = schema.properties[key];
        if (!prop) problems.push(`${path}.${key}: not in the documented schema`);
        else problems.push(...checkAgainstSchema(doc, prop, obj[key], `${path}.${key}`));
      }
      return problems;
    }
  }
}
