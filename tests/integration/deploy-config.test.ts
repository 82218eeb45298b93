/**
 * The deployment template as osls resolves it, offline: the local stage takes the environment, a
 * deployed stage cannot be resolved without reading SSM, and the local stage refuses to be deployed.
 * A deployed stage against a real SSM API (moto): tests/integration/deploy.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const serverless = (args: string[], env: Record<string, string> = {}) =>
  run('node_modules/.bin/serverless', args, {
    env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: 'none', ...env },
    timeout: 60_000,
  }).then(
    ({ stdout }) => ({ ok: true, out: stdout }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );

describe('serverless.yml', () => {
  it('resolves the local stage from the environment, CORS included, and a role of its own for each function', async () => {
    const { ok, out } = await serverless(['print', '--format', 'json'], {
      API_KEYS: 'printed-key-0123456789',
      CORS_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(ok).toBe(true);
    const config = JSON.parse(out.slice(out.indexOf('{')));
    expect(config.provider.environment.API_KEYS).toBe('printed-key-0123456789');
    expect(config.provider.httpApi.cors.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    // No statements shared by every function: each names its own role, defined in the resources.
    expect(config.provider.iam).toBeUndefined();
    const resources = config.resources.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const roles = Object.fromEntries(Object.entries(config.functions as Record<string, { role?: string }>).map(([fn, f]) => [fn, f.role]));
    expect(Object.keys(roles).length).toBeGreaterThan(14);
    for (const [fn, role] of Object.entries(roles)) expect(resources[role ?? '']?.Type, `${fn}'s role ${role}`).toBe('AWS::IAM::Role');
    type Policy = { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
    const statementsOf = (role: string) =>
      ((resources[role]?.Properties.Policies ?? []) as Policy[]).flatMap((p) => p.PolicyDocument.Statement);
    const all = [...new Set(Object.values(roles))].flatMap((role) => statementsOf(role ?? '').map((s) => ({ role, ...s })));
    // docs, openapi and web make no AWS call: their logs only.
    expect(new Set([roles.docs, roles.openapi, roles.web]).size).toBe(1);
    expect(statementsOf(roles.web ?? '').flatMap((s) => [s.Action].flat())).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    // A missing key is a 404 (not a 403) only to a role that may list the bucket: the two that tell them apart.
    expect(all.filter((s) => [s.Action].flat().includes('s3:ListBucket')).map((s) => [s.role, s.Resource])).toEqual([
      ['UploadsCompleteRole', { 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }],
      ['ImagesProcessRole', { 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }],
    ]);
    // Objects only under the three prefixes the functions own; nothing in the bucket is read but originals and pending uploads.
    const objectResources = all
      .filter((s) => [s.Action].flat().some((a) => /^s3:(Get|Put|Delete)Object$/.test(a)))
      .flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)));
    expect(objectResources.length).toBeGreaterThan(0);
    expect(objectResources.every((r) => /"\/(images|variants|uploads)\/\*"/.test(r))).toBe(true);
    expect(
      all
        .filter((s) => [s.Action].flat().includes('s3:GetObject'))
        .flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)))
        .filter((r) => r.includes('/variants/')),
    ).toEqual([]);
    expect(config.resources.Resources.ImagesBucket.Properties.PublicAccessBlockConfiguration).toMatchObject({
      BlockPublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('names the images bucket as the README does, keeps it, and lets CloudFront see missing files as 404s', async () => {
    const { ok, out } = await serverless(['print', '--format', 'json']);
    expect(ok).toBe(true);
    const { Resources } = JSON.parse(out.slice(out.indexOf('{'))).resources;
    // photo-gallery-<stage>-<account id>, the account left to CloudFormation (packages offline).
    expect(Resources.ImagesBucket.Properties.BucketName).toEqual({
      'Fn::Join': ['-', ['photo-gallery', 'dev', { Ref: 'AWS::AccountId' }]],
    });
    expect(Resources.ImagesBucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const statements = Resources.ImagesBucketPolicy.Properties.PolicyDocument.Statement as Record<string, unknown>[];
    const fromTheDistribution = statements.find((s) => s.Sid === 'CloudFrontReadsImages')?.Condition;
    expect(fromTheDistribution).toBeDefined();
    expect(statements).toContainEqual({
      Sid: 'CloudFrontSeesMissingFiles',
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': ['ImagesBucket', 'Arn'] },
      Condition: fromTheDistribution,
    });
    // The root is never the bucket's listing.
    expect(Resources.FilesDistribution.Properties.DistributionConfig.DefaultRootObject).toBe('index.html');
  });

  it('lets CloudFront read the variants, and the originals only with ORIGINALS_PUBLIC=true', async () => {
    const readable = async (env: Record<string, string>) => {
      const { ok, out } = await serverless(['print', '--format', 'json'], env);
      expect(ok).toBe(true);
      const config = JSON.parse(out.slice(out.indexOf('{')));
      const statements = config.resources.Resources.ImagesBucketPolicy.Properties.PolicyDocument.Statement as Record<string, unknown>[];
      return {
        resource: statements.find((s) => s.Sid === 'CloudFrontReadsImages')?.Resource,
        env: config.provider.environment.ORIGINALS_PUBLIC,
      };
    };
    const under = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }, `/${prefix}/*`]] });
    expect(await readable({})).toEqual({ resource: [under('variants')], env: 'false' });
    expect(await readable({ ORIGINALS_PUBLIC: 'true' })).toEqual({ resource: [under('images'), under('variants')], env: 'true' });
  });

  it('will not resolve a deployed stage whose SSM parameters cannot be read, and does not call them missing', async () => {
    const { ok, out } = await serverless(['print', '--stage', 'prod']);
    expect(ok).toBe(false);
    expect(out).toMatch(
      /could not read the SSM parameter \/photo-gallery\/prod\/[a-z-]+: .*AWS profile "none" doesn't seem to be configured/,
    );
    expect(out).not.toContain('needs the SSM parameter');
  });

  it('refuses to deploy the local stage', async () => {
    const { ok, out } = await serverless(['deploy']);
    expect(ok).toBe(false);
    expect(out).toContain('"dev" is the local stage; deploy a named one');
  });
});
