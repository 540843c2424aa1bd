/**
 * One section of the home's published config.json schema (host/home/config.schema.json) as a schema of
 * its own, for tests that hold a section's parser to the schema.
 */
import configSchema from '../../host/home/config.schema.json' with { type: 'json' };

export function configSectionSchema(section: string): { $schema: string; $defs: Record<string, unknown>; $ref: string } {
  return { $schema: configSchema.$schema, $defs: configSchema.$defs, $ref: `#/$defs/${section}` };
}

export const CONFIG_DEFS = configSchema.$defs;
