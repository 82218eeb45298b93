/**
 * The deploy path against an AWS stand-in (moto_server, a real SSM API): a deployed stage packages
 * when its SSM parameters exist and fails naming the one that is missing; the compiled template
 * passes cfn-lint and holds no secret, nor does anything else in `.serverless/`; the packaged
 * functions read their secrets from SSM at cold start, and fail it naming a parameter that is
 * missing or malformed.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PARAMETERS } from '../../lib/config';
import { checkPackage } from '../../scripts/check-package';
import { type AwsStandIn, startAwsStandIn } from '../../support/aws-stand-in';
import { type Call, httpEvent } from '../../support/lambda-events';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';
import { missingDeployTools, projectCopy } from '../helpers/deploy-project';
import { sql } from '../helpers/state';

const run = promisify(execFile);
const SERVERLESS = join(process.cwd(), 'node_modules/.bin/serverless');
const missingTools = missingDeployTools();

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Template = { Resources: Record<string, Resource> };
interface LambdaProperties {
  Environment: { Variables: Record<string, unknown> };
  ReservedConcurrentExecutions?: number;
}

/** The template's Lambda functions by logical id (`ImagesGetLambdaFunction` → `ImagesGet`). */
/** The service's functions (not osls's own custom-resource function, which sets the S3 notification). */
const lambdas = (template: Template): [string, LambdaProperties][] =>
  Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !id.startsWith('CustomDashresource'))
    .map(([id, r]) => [id.replace(/LambdaFunction$/, ''), r.Properties as unknown as LambdaProperties]);

// moto_server and cfn-lint are pip packages (.ci/run installs them); without them only CI insists.
describe.runIf(missingTools.length === 0 || process.env.CI)(
  `a deployed stage, against moto${missingTools.length ? ` (skipped here: ${missingTools.join(' and ')} not installed)` : ''}`,
  () => {
    let aws: AwsStandIn;
    let upstash: UpstashFixture;
    let project: Awaited<ReturnType<typeof projectCopy>>;
    let template: Template;
    /** The stage "prod"'s secrets: values that must never appear outside SSM. */
    let secrets: Record<(typeof SECRET_PARAMETERS)[keyof typeof SECRET_PARAMETERS], string>;
    const apiKey = `prod-api-key-${randomUUID()}`;
    const dbPassword = `db-password-${randomUUID()}`;

    const serverless = (args: string[]) =>
      run(SERVERLESS, args, {
        cwd: project.dir,
        env: { ...process.env, AWS_PROFILE: '', ...aws.env },
        timeout: 180_000,
        maxBuffer: 1 << 24,
      }).then(
        ({ stdout, stderr }) => ({ ok: true, out: `${stdout}${stderr}` }),
        (err: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
      );

    /** All four parameters of a stage, but those left out. */
    const putStage = (stage: string, values: Record<string, string>, leaveOut: string[] = []) =>
      aws.putParameters(
        Object.fromEntries(
          Object.entries(values)
            .filter(([name]) => !leaveOut.includes(name))
            .map(([name, value]) => [`/photo-gallery/${stage}/${name}`, value]),
        ),
      );

    /**
     * Imports a packaged function in a fresh Node process, with the environment the template gives
     * it (the bucket and the CloudFront URL standing for the test's) and nothing else, as Lambda
     * would, then serves the calls; resolves to the answers, or rejects with what the process printed.
     */
    async function coldStart(fn: string, calls: Call[], overrides: Record<string, string> = {}) {
      const [, properties] = lambdas(template).find(([id]) => id === `${fn[0]?.toUpperCase()}${fn.slice(1)}`) ?? [];
      const variables = properties?.Environment.Variables ?? {};
      const stands: Record<string, string> = { S3_BUCKET: process.env.S3_BUCKET ?? '', FILES_BASE_URL: process.env.FILES_BASE_URL ?? '' };
      const environment = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : (stands[k] ?? '')]));
      const dir = join(project.dir, 'unzipped', fn);
      await mkdir(dir, { recursive: true });
      await run('unzip', ['-q', '-o', join(project.dir, '.serverless', `${fn}.zip`), '-d', dir]);
      const [bundle] = (await readdir(join(dir, 'functions'))).filter((f) => f.endsWith('.mjs'));
      const driver = `
        import { pathToFileURL } from 'node:url';
        const [bundle, calls] = process.argv.slice(1);
        const { handler } = await import(pathToFileURL(bundle).href);
        const out = [];
        for (const event of JSON.parse(calls)) {
          const res = await handler(event, { awsRequestId: 'deploy-test', getRemainingTimeInMillis: () => 10000 });
          out.push({ status: res.statusCode, body: res.body });
        }
        process.stdout.write(JSON.stringify(out));
        process.exit(0);`;
      const { stdout } = await run(
        process.execPath,
        ['--input-type=module', '-e', driver, join(dir, 'functions', bundle ?? ''), JSON.stringify(calls.map(httpEvent))],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', ...environment, ...aws.env, ...overrides }, timeout: 30_000 },
      );
      return JSON.parse(stdout) as { status: number; body: string }[];
    }

    beforeAll(async () => {
      [aws, upstash, project] = await Promise.all([
        startAwsStandIn(),
        startUpstashFixture('redis://127.0.0.1:6379', `upstash-token-${randomUUID()}`),
        projectCopy(),
      ]);
      const db = new URL(process.env.DATABASE_URL ?? '');
      db.password = dbPassword; // the machine's Postgres trusts loopback: the password is never checked
      secrets = {
        'database-url': db.toString(),
        'api-keys': apiKey,
        'upstash-redis-rest-url': upstash.url,
        'upstash-redis-rest-token': upstash.token,
      };
      await putStage('prod', secrets);
      await aws.putParameters({ '/photo-gallery/prod/reserved-concurrency': '*=10,imagesCreate=4' });
      const packaged = await serverless(['package', '--stage', 'prod']);
      expect(packaged.out).toContain('Service packaged');
      expect(packaged.ok).toBe(true);
      template = JSON.parse(await readFile(join(project.dir, '.serverless/cloudformation-template-update-stack.json'), 'utf8'));
    }, 300_000);

    afterAll(async () => {
      await Promise.all([aws?.stop(), upstash?.stop(), project?.remove()]);
    });

    it('packages --stage prod with its four parameters in SSM; no secret is anywhere in .serverless/', async () => {
      const dir = join(project.dir, '.serverless');
      const files = (await readdir(dir)).sort();
      expect(files).toEqual(
        expect.arrayContaining(['cloudformation-template-update-stack.json', 'serverless-state.json', 'imagesCreate.zip']),
      );
      const leaked: string[] = [];
      for (const file of files) {
        const text = file.endsWith('.zip')
          ? (await run('unzip', ['-p', join(dir, file)], { maxBuffer: 1 << 26, encoding: 'latin1' })).stdout
          : await readFile(join(dir, file), 'latin1');
        for (const [name, value] of [...Object.entries(secrets), ['database password', dbPassword] as const]) {
          if (name !== 'upstash-redis-rest-url' && text.includes(value)) leaked.push(`${name} in ${file}`);
        }
      }
      expect(leaked).toEqual([]);
    });

    it("gives every function the parameters' path, and no secret, in its environment", () => {
      const functions = lambdas(template);
      expect(functions).toHaveLength(14);
      for (const [, fn] of functions) {
        const variables = fn.Environment.Variables;
        expect(variables.SSM_PARAMETER_PATH).toBe('/photo-gallery/prod');
        for (const variable of Object.keys(SECRET_PARAMETERS)) expect(variables[variable] ?? '').toBe('');
        expect(JSON.stringify(variables)).not.toMatch(new RegExp([apiKey, dbPassword, upstash.token].join('|')));
      }
    });

    it('packages sharp and libheif for arm64 into imagesProcess only, and triggers it from images/', async () => {
      expect(checkPackage(join(project.dir, '.serverless'))).toEqual([]);
      const entries = (await run('unzip', ['-Z1', join(project.dir, '.serverless/imagesProcess.zip')])).stdout;
      expect(entries).toMatch(/node_modules\/@img\/sharp-linux-arm64\/lib\/sharp-linux-arm64-[\d.]+\.node/);
      expect(entries).toMatch(/node_modules\/libheif-js\/wasm-bundle\.js/);
      const resources = template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
      const notification = Object.values(resources).find((r) => r.Type === 'Custom::S3');
      expect(notification?.Properties).toMatchObject({
        BucketName: { Ref: 'ImagesBucket' },
        BucketConfigs: [{ Event: 's3:ObjectCreated:*', Rules: [{ Prefix: 'images/' }] }],
      });
      expect(Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig')?.Properties).toMatchObject({
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ProcessingFailures', 'Arn'] } } },
      });
      // What failed every attempt is recorded by imagesProcessFailed, from that queue, message by message.
      expect(Object.values(resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')?.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': ['ProcessingFailures', 'Arn'] },
        FunctionName: { 'Fn::GetAtt': ['ImagesProcessFailedLambdaFunction', 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('compiles a template in which cfn-lint finds no error (W3005, redundant DependsOn, is osls its own)', async () => {
      const lint = await run(
        'cfn-lint',
        ['--format', 'json', '-t', join(project.dir, '.serverless/cloudformation-template-update-stack.json')],
        {
          maxBuffer: 1 << 24,
        },
      ).then(
        ({ stdout }) => stdout,
        // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
        (err: { code?: number; stdout?: string }) => ((err.code ?? 0) & 2 ? `errors: ${err.stdout}` : (err.stdout ?? '')),
      );
      const matches = JSON.parse(lint.replace(/^errors: /, '')) as { Level: string; Rule: { Id: string }; Message: string }[];
      expect(matches.filter((m) => m.Level === 'Error').map((m) => `${m.Rule.Id} ${m.Message}`)).toEqual([]);
      expect(new Set(matches.map((m) => m.Rule.Id))).toEqual(new Set(['W3005']));
    });

    it("lets the functions read the stage's own parameters, decrypted through SSM only", () => {
      const policies = template.Resources.IamRoleLambdaExecution?.Properties.Policies as {
        PolicyDocument: { Statement: Record<string, unknown>[] };
      }[];
      const statements = policies[0]?.PolicyDocument.Statement ?? [];
      const arn = (service: string, resource: string) => ({
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, resource],
        ],
      });
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['ssm:GetParameters'],
        Resource: arn('ssm', ':parameter/photo-gallery/prod/*'),
      });
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:Decrypt'],
        Resource: arn('kms', ':key/*'),
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      });
      const actions = statements.flatMap((s) => s.Action as string[]);
      expect(actions.filter((a) => /^(ssm|kms):/.test(a))).toEqual(['ssm:GetParameters', 'kms:Decrypt']);
    });

    it('sets each function its reserved concurrency from /photo-gallery/prod/reserved-concurrency', () => {
      const reserved = Object.fromEntries(lambdas(template).map(([id, fn]) => [id, fn.ReservedConcurrentExecutions]));
      expect(reserved).toEqual({
        ImagesCreate: 4,
        ImagesList: 10,
        ImagesGet: 10,
        ImagesUpdate: 10,
        ImagesDelete: 10,
        UploadsCreate: 10,
        UploadsComplete: 10,
        UploadsSweep: 10,
        ImagesProcess: 10,
        ImagesProcessFailed: 10,
        OutboxRelay: 10,
        Openapi: 10,
        Docs: 10,
        Web: 10,
      });
    });

    it('lets the gallery page, served by the HTTP API itself, POST files straight to the bucket', () => {
      const cors = template.Resources.ImagesBucket?.Properties.CorsConfiguration as { CorsRules: Record<string, unknown>[] };
      expect(cors.CorsRules).toContainEqual({
        AllowedMethods: ['POST'],
        AllowedOrigins: [{ 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] }],
        AllowedHeaders: ['*'],
        MaxAge: 3600,
      });
      expect(template.Resources.HttpApi?.Type).toBe('AWS::ApiGatewayV2::Api');
    });

    it('runs the packaged functions on the secrets they read from SSM at cold start', async () => {
      const id = randomUUID();
      await sql`insert into images (id, title, description, filename, file_url)
                values (${id}, ${`deployed ${id.slice(0, 8)}`}, 'from SSM', 'd.jpg', ${`${process.env.FILES_BASE_URL}/images/${id}.jpg`})`;
      const [got] = await coldStart('imagesGet', [
        { method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } },
      ]);
      expect(got?.status).toBe(200);
      expect(JSON.parse(got?.body ?? '{}')).toMatchObject({ id, description: 'from SSM' });

      const patch = (headers: Record<string, string>): Call => ({
        method: 'PATCH',
        path: `/api/v1/images/${id}`,
        route: 'PATCH /api/v1/images/{id}',
        pathParameters: { id },
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ description: 'patched' }),
      });
      const answers = await coldStart('imagesUpdate', [patch({}), patch({ authorization: `Bearer ${apiKey}` })]);
      expect(answers.map((a) => a.status)).toEqual([401, 200]);
      // The update published its event through the Upstash token it read from SSM.
      expect(upstash.commands.some((c) => c[0]?.toLowerCase() === 'publish')).toBe(true);
    });

    it('fails the cold start naming a parameter that is missing, or malformed', async () => {
      await putStage('cold-missing', secrets, ['api-keys']);
      const get: Call = { method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images' };
      await expect(coldStart('imagesList', [get], { SSM_PARAMETER_PATH: '/photo-gallery/cold-missing' })).rejects.toThrow(
        /ConfigError: Invalid configuration: SSM parameter \/photo-gallery\/cold-missing\/api-keys not found/,
      );
      await putStage('cold-malformed', { ...secrets, 'database-url': 'mysql://u@db.example/gallery' });
      await expect(coldStart('imagesList', [get], { SSM_PARAMETER_PATH: '/photo-gallery/cold-malformed' })).rejects.toThrow(
        /DATABASE_URL \(SSM parameter \/photo-gallery\/cold-malformed\/database-url\) must be a postgres:\/\/ URL/,
      );
      await putStage('cold-nokey', { ...secrets, 'api-keys': ' , ' });
      await expect(coldStart('imagesList', [get], { SSM_PARAMETER_PATH: '/photo-gallery/cold-nokey' })).rejects.toThrow(
        /API_KEYS \(SSM parameter \/photo-gallery\/cold-nokey\/api-keys\) holds no key/,
      );
    });

    it.each(Object.values(SECRET_PARAMETERS))('will not package a stage without %s, and names it', async (name) => {
      const stage = `without-${name}`;
      await putStage(stage, secrets, [name]);
      const { ok, out } = await serverless(['print', '--stage', stage]);
      expect(ok).toBe(false);
      expect(out).toContain(`stage "${stage}" needs the SSM parameter /photo-gallery/${stage}/${name} (SecureString)`);
      for (const other of Object.values(SECRET_PARAMETERS).filter((n) => n !== name)) {
        expect(out).not.toContain(`/photo-gallery/${stage}/${other}`);
      }
    });

    it('will not package a stage whose API keys parameter holds no key', async () => {
      await putStage('blank-keys', { ...secrets, 'api-keys': ' , ' });
      const { ok, out } = await serverless(['print', '--stage', 'blank-keys']);
      expect(ok).toBe(false);
      expect(out).toContain('stage "blank-keys": /photo-gallery/blank-keys/api-keys holds no key; a deployed stage needs API keys');
    });

    it.each([
      ['imagesCreate=many', '"imagesCreate=many" is not <function>=<n>'],
      ['imagesCreat=4', 'no function is called "imagesCreat"'],
    ])('will not package a stage whose reserved-concurrency is malformed (%s)', async (value, why) => {
      const stage = `rc-${value.length}`;
      await putStage(stage, secrets);
      await aws.putParameters({ [`/photo-gallery/${stage}/reserved-concurrency`]: value });
      const { ok, out } = await serverless(['print', '--stage', stage]);
      expect(ok).toBe(false);
      expect(out).toContain(`/photo-gallery/${stage}/reserved-concurrency is malformed (${why}); the format is <function>=<n>,…`);
    });
  },
);
