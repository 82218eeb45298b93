/**
 * The deploy path against an AWS stand-in (moto_server, a real SSM API): a deployed stage packages
 * when its SSM parameters exist and fails naming the one that is missing; the compiled template
 * passes cfn-lint and holds no secret, nor does anything else in `.serverless/`; each function runs
 * with the role of its group, which grants exactly the table below (ROLES) and, evaluated on real
 * keys, allows the calls its code makes (NEEDS) and nothing else tried; the packaged functions read
 * their secrets from SSM at cold start, and fail it naming a parameter that is missing or malformed.
 * moto does not evaluate IAM: these tests read the policies, they do not enforce them.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_PARAMETERS } from '../../lib/config';
import { pendingKey, variantKey } from '../../lib/keys';
import { checkPackage } from '../../scripts/check-package';
import { type AwsStandIn, startAwsStandIn } from '../../support/aws-stand-in';
import { type Call, httpEvent } from '../../support/lambda-events';
import { startUpstashFixture, type UpstashFixture } from '../../support/upstash-fixture';
import { projectCopy } from '../helpers/deploy-project';
import { allows, grants, statementsOf, type Template, type Values } from '../helpers/iam';
import { sql } from '../helpers/state';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);
const SERVERLESS = join(process.cwd(), 'node_modules/.bin/serverless');

interface LambdaProperties {
  Environment: { Variables: Record<string, unknown> };
  ReservedConcurrentExecutions?: number;
}

/** A function's logical id part: `imagesGet` → `ImagesGet`. */
const logicalId = (fn: string) => `${fn[0]?.toUpperCase()}${fn.slice(1)}`;
/** An ARN of the stage's region and account, as the template joins it. */
const arn = (service: string, resource: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, resource]],
});

/** The albums and the share links: rows, counts and events, nothing in the bucket; one role. */
const COLLECTION_FUNCTIONS = [
  'albumsCreate',
  'albumsList',
  'albumsGet',
  'albumsUpdate',
  'albumsDelete',
  'albumsImagesAdd',
  'albumsImagesRemove',
  'sharesCreate',
  'sharesList',
  'sharesDelete',
  'sharedGet',
  'sharedUnlock',
];

/**
 * What each function's code calls in AWS (functions/*.ts → lib/**; storage.ts: a HEAD is
 * s3:GetObject, a copy GetObject on its source and PutObject on its target, a presigned POST or GET
 * acts with the signer's PutObject or GetObject, ListBucket makes a missing key a 404), by the names
 * of the requests the last test tries. `secrets`: it reads the stage's SSM parameters at cold start.
 */
const NEEDS: Record<string, { secrets: boolean; calls: [string, string][] }> = {
  docs: { secrets: false, calls: [] },
  openapi: { secrets: false, calls: [] },
  web: { secrets: false, calls: [] },
  imagesGet: { secrets: true, calls: [['s3:GetObject original', 'presigned GET (ORIGINALS_PUBLIC=false)']] },
  imagesList: { secrets: true, calls: [['s3:GetObject original', 'presigned GET (ORIGINALS_PUBLIC=false)']] },
  imagesUpdate: { secrets: true, calls: [['s3:GetObject original', "presigned GET in the PATCH's answer"]] },
  sharedImagesList: { secrets: true, calls: [['s3:GetObject original', 'presigned GET for a share that allows originals']] },
  sharedImageGet: { secrets: true, calls: [['s3:GetObject original', 'presigned GET for a share that allows originals']] },
  ...Object.fromEntries(COLLECTION_FUNCTIONS.map((fn) => [fn, { secrets: true, calls: [] }])),
  imagesCreate: {
    secrets: true,
    calls: [
      ['s3:PutObject original', 'stores the file'],
      ['s3:DeleteObject original', 'guardObjects: removed if the commit fails'],
      ['s3:GetObject original', 'presigned GET in the answer'],
    ],
  },
  imagesDelete: {
    secrets: true,
    calls: [
      ['s3:DeleteObject original', 'removeNow'],
      ['s3:DeleteObject variant', 'removeNow'],
    ],
  },
  outboxRelay: {
    secrets: true,
    calls: [
      ['s3:DeleteObject original', 'runRemovals: jobs of create, delete, complete'],
      ['s3:DeleteObject variant', 'runRemovals: jobs of delete, process'],
    ],
  },
  uploadsCreate: { secrets: true, calls: [['s3:PutObject pending', 'presigned POST']] },
  uploadsComplete: {
    secrets: true,
    calls: [
      ['s3:GetObject pending', 'HEAD with its checksum (SSE-S3: nothing more), ranged GET, hashing GET, copy source'],
      ['s3:ListBucket bucket', 'a pending object not there is a 404: 409 not uploaded yet'],
      ['s3:DeleteObject pending', 'discardPending'],
      ['s3:PutObject original', 'copy target'],
      ['s3:DeleteObject original', 'guardObjects: removed if the commit fails'],
      ['s3:GetObject original', 'presigned GET in the answer'],
    ],
  },
  uploadsSweep: { secrets: true, calls: [['s3:DeleteObject pending', 'discardUpload']] },
  imagesProcess: {
    secrets: true,
    calls: [
      ['s3:GetObject original', 'HEAD and GET of the original'],
      ['s3:ListBucket bucket', 'an original deleted meanwhile is a 404: skipped, not retried'],
      ['s3:PutObject variant', 'stores the copies'],
      ['s3:DeleteObject variant', 'guardObjects: removed if the commit fails'],
      ['sqs:SendMessage queue', 'the on-failure destination, sent by Lambda with this role'],
    ],
  },
  imagesProcessFailed: {
    secrets: true,
    calls: [
      ['sqs:ReceiveMessage queue', 'the event source mapping polls with this role'],
      ['sqs:DeleteMessage queue', 'the event source mapping'],
      ['sqs:GetQueueAttributes queue', 'the event source mapping'],
    ],
  },
};

const BUCKET = 'arn:aws:s3:::<bucket>';
const QUEUE = 'arn:aws:sqs:<region>:<account>:ProcessingFailures';
const SECRETS = [
  'ssm:GetParameters arn:aws:ssm:<region>:<account>:parameter/photo-gallery/prod/*',
  'kms:Decrypt arn:aws:kms:<region>:<account>:key/* if kms:ViaService=ssm.<region>.amazonaws.com',
];
/** A function's own log group, written to and nothing else: CloudFormation creates it. */
const logsOf = (fn: string) =>
  ['logs:CreateLogStream', 'logs:PutLogEvents'].map(
    (a) => `${a} arn:aws:logs:<region>:<account>:log-group:/aws/lambda/photo-gallery-prod-${fn}:*`,
  );

/**
 * The roles: which functions use each, and everything each grants besides its functions' logs, one
 * (action, resource) pair a line. Any pair more, or less, in the template fails the tests.
 */
const ROLES: Record<string, { functions: string[]; grants: string[] }> = {
  StaticFunctionsRole: { functions: ['docs', 'openapi', 'web'], grants: [] },
  ImageReadersRole: {
    functions: ['imagesGet', 'imagesList', 'imagesUpdate', 'sharedImagesList', 'sharedImageGet'],
    grants: [...SECRETS, `s3:GetObject ${BUCKET}/images/*`],
  },
  CollectionsRole: {
    functions: COLLECTION_FUNCTIONS,
    grants: SECRETS,
  },
  ImagesCreateRole: {
    functions: ['imagesCreate'],
    grants: [...SECRETS, `s3:PutObject ${BUCKET}/images/*`, `s3:DeleteObject ${BUCKET}/images/*`, `s3:GetObject ${BUCKET}/images/*`],
  },
  FileRemovalRole: {
    functions: ['imagesDelete', 'outboxRelay'],
    grants: [...SECRETS, `s3:DeleteObject ${BUCKET}/images/*`, `s3:DeleteObject ${BUCKET}/variants/*`],
  },
  UploadsCreateRole: { functions: ['uploadsCreate'], grants: [...SECRETS, `s3:PutObject ${BUCKET}/uploads/*`] },
  UploadsCompleteRole: {
    functions: ['uploadsComplete'],
    grants: [
      ...SECRETS,
      `s3:GetObject ${BUCKET}/uploads/*`,
      `s3:DeleteObject ${BUCKET}/uploads/*`,
      `s3:PutObject ${BUCKET}/images/*`,
      `s3:DeleteObject ${BUCKET}/images/*`,
      `s3:GetObject ${BUCKET}/images/*`,
      `s3:ListBucket ${BUCKET}`,
    ],
  },
  UploadsSweepRole: { functions: ['uploadsSweep'], grants: [...SECRETS, `s3:DeleteObject ${BUCKET}/uploads/*`] },
  ImagesProcessRole: {
    functions: ['imagesProcess'],
    grants: [
      ...SECRETS,
      `s3:GetObject ${BUCKET}/images/*`,
      `s3:PutObject ${BUCKET}/variants/*`,
      `s3:DeleteObject ${BUCKET}/variants/*`,
      `s3:ListBucket ${BUCKET}`,
      `sqs:SendMessage ${QUEUE}`,
    ],
  },
  ImagesProcessFailedRole: {
    functions: ['imagesProcessFailed'],
    grants: [...SECRETS, `sqs:ReceiveMessage ${QUEUE}`, `sqs:DeleteMessage ${QUEUE}`, `sqs:GetQueueAttributes ${QUEUE}`],
  },
};

/** The template's Lambda functions by logical id (`ImagesGetLambdaFunction` → `ImagesGet`). */
/** The service's functions (not osls's own custom-resource function, which sets the S3 notification). */
const lambdas = (template: Template): [string, LambdaProperties][] =>
  Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !id.startsWith('CustomDashresource'))
    .map(([id, r]) => [id.replace(/LambdaFunction$/, ''), r.Properties as unknown as LambdaProperties]);

describe.runIf(runsWith('a deployed stage against moto (deploy.test.ts)', 'moto_server', 'cfn-lint', 'unzip'))(
  'a deployed stage, against moto',
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
      return (await coldStartOutput(fn, calls, overrides)).answers;
    }

    /** coldStart's answers, and what the function wrote to stderr (its warnings and errors). */
    async function coldStartOutput(fn: string, calls: Call[], overrides: Record<string, string> = {}) {
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
        try {
          const { handler } = await import(pathToFileURL(bundle).href);
          const out = [];
          for (const event of JSON.parse(calls)) {
            const res = await handler(event, { awsRequestId: 'deploy-test', getRemainingTimeInMillis: () => 10000 });
            out.push({ status: res.statusCode, body: res.body });
          }
          process.stdout.write(JSON.stringify(out));
          process.exit(0);
        } catch (error) {
          // The stack alone: Node's own report quotes the minified source line, megabytes long.
          process.stderr.write(String(error?.stack ?? error));
          process.exit(1);
        }`;
      const { stdout, stderr } = await run(
        process.execPath,
        ['--input-type=module', '-e', driver, join(dir, 'functions', bundle ?? ''), JSON.stringify(calls.map(httpEvent))],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', ...environment, ...aws.env, ...overrides }, timeout: 30_000 },
      );
      return { answers: JSON.parse(stdout) as { status: number; body: string }[], stderr };
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
        'share-token-secret': `share-token-secret-${randomUUID()}`,
      };
      await putStage('prod', secrets);
      // The machine's Postgres speaks no TLS: this stage opts out of verifying it, as a provider
      // without verifiable certificates would (db-tls.test.ts verifies a real certificate).
      await aws.putParameters({
        '/photo-gallery/prod/reserved-concurrency': '*=10,imagesCreate=4',
        '/photo-gallery/prod/db-tls-unverified': 'true',
      });
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
      expect(functions).toHaveLength(Object.keys(NEEDS).length);
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

    it('gives each function the role of its group, trusted by Lambda alone; osls makes no shared role', () => {
      const roleOf = Object.fromEntries(
        Object.entries(template.Resources)
          .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !id.startsWith('CustomDashresource'))
          .map(([id, r]) => [id.replace(/LambdaFunction$/, ''), (r.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']]),
      );
      expect(roleOf).toEqual(
        Object.fromEntries(Object.entries(ROLES).flatMap(([role, { functions }]) => functions.map((fn) => [logicalId(fn), [role, 'Arn']]))),
      );
      // The only IAM resources: the roles above and osls's own for its custom resource (the S3
      // notification); no IamRoleLambdaExecution, no policy attached from elsewhere.
      const iam = Object.entries(template.Resources).filter(([, r]) => r.Type.startsWith('AWS::IAM::'));
      expect(iam.map(([id, r]) => `${r.Type} ${id}`).sort()).toEqual(
        [...Object.keys(ROLES), 'IamRoleCustomResourcesLambdaExecution'].map((id) => `AWS::IAM::Role ${id}`).sort(),
      );
      for (const role of Object.keys(ROLES)) {
        expect(template.Resources[role]?.Properties.AssumeRolePolicyDocument, role).toEqual({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        });
      }
      // Lambda polls the failure queue with imagesProcessFailed's role: the mapping waits for it.
      expect(template.Resources.ImagesProcessFailedEventSourceMappingSQSProcessingFailures?.DependsOn).toEqual(['ImagesProcessFailedRole']);
      // Each function's log group is the stack's, kept 14 days, and made before the function.
      for (const fn of Object.values(ROLES).flatMap((r) => r.functions)) {
        expect(template.Resources[`${logicalId(fn)}LogGroup`]?.Properties).toEqual({
          LogGroupName: `/aws/lambda/photo-gallery-prod-${fn}`,
          RetentionInDays: 14,
        });
        expect(template.Resources[`${logicalId(fn)}LambdaFunction`]?.DependsOn).toContain(`${logicalId(fn)}LogGroup`);
      }
    });

    it('grants each role exactly the (action, resource) pairs of its table, and no more', () => {
      const granted = Object.fromEntries(Object.keys(ROLES).map((role) => [role, grants(template, role)]));
      const expected = Object.fromEntries(
        Object.entries(ROLES).map(([role, { functions, grants: own }]) => [role, [...functions.flatMap(logsOf), ...own].sort()]),
      );
      expect(granted).toEqual(expected);
      // osls's own role, for its custom resource only: unchanged by this template.
      expect(grants(template, 'IamRoleCustomResourcesLambdaExecution')).toEqual(
        [
          's3:GetBucketNotification arn:aws:s3:::<bucket>',
          's3:PutBucketNotification arn:aws:s3:::<bucket>',
          'lambda:AddPermission arn:aws:lambda:<region>:<account>:function:*',
          'lambda:RemovePermission arn:aws:lambda:<region>:<account>:function:*',
        ].sort(),
      );
    });

    it('lets docs, openapi and web write their logs and nothing else', () => {
      for (const line of grants(template, 'StaticFunctionsRole')) expect(line).toMatch(/^logs:(CreateLogStream|PutLogEvents) /);
    });

    it('lets the readers (get, list, and the PATCH) sign GETs of originals, and neither write nor touch uploads/ or variants/', () => {
      const lines = grants(template, 'ImageReadersRole');
      expect(lines.filter((l) => /^s3:/.test(l))).toEqual(['s3:GetObject arn:aws:s3:::<bucket>/images/*']);
      const beyondLogs = lines.filter((l) => !/^logs:(CreateLogStream|PutLogEvents) /.test(l));
      expect(beyondLogs.filter((l) => /^s3:(Put|Delete|Copy|List)|uploads\/|variants\/|^sqs:/.test(l))).toEqual([]);
      expect(beyondLogs.map((l) => l.split(' ')[0]).sort()).toEqual(['kms:Decrypt', 's3:GetObject', 'ssm:GetParameters']);
    });

    it("lets only the functions that read secrets read the stage's own parameters, decrypted through SSM only", async () => {
      const bundle = async (fn: string) =>
        (await run('unzip', ['-p', join(project.dir, '.serverless', `${fn}.zip`), 'functions/*.mjs'], { maxBuffer: 1 << 26 })).stdout;
      for (const [role, { functions, grants: own }] of Object.entries(ROLES)) {
        const statements = statementsOf(template, role);
        const readsSecrets = own.some((g) => g.startsWith('ssm:'));
        for (const fn of functions) {
          // The SSM client is in a function's zip exactly when its role may read the parameters,
          // and the S3 client exactly when it grants anything in the bucket.
          const code = await bundle(fn);
          expect(code.includes('AmazonSSM.GetParameters'), `${fn}'s zip and SSM`).toBe(readsSecrets);
          // (A reader that only presigns GETs signs them itself: presignObjectGet.)
          const s3 = code.includes('S3Client') || code.includes('presignObjectGet');
          expect(s3, `${fn}'s zip and S3`).toBe(own.some((g) => g.startsWith('s3:')));
        }
        if (!readsSecrets) {
          expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => /^(ssm|kms):/.test(a))).toEqual([]);
          continue;
        }
        expect(statements).toContainEqual({
          Effect: 'Allow',
          Action: 'ssm:GetParameters',
          Resource: arn('ssm', ':parameter/photo-gallery/prod/*'),
        });
        expect(statements).toContainEqual({
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: arn('kms', ':key/*'),
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['ssm.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
        });
      }
      expect(
        Object.values(ROLES)
          .filter((r) => r.grants.some((g) => g.startsWith('ssm:')))
          .flatMap((r) => r.functions)
          .sort(),
      ).toEqual(
        Object.entries(NEEDS)
          .filter(([, need]) => need.secrets)
          .map(([fn]) => fn)
          .sort(),
      );
    });

    it('allows each function every call its code makes on real keys, and refuses it every other call tried', () => {
      const id = randomUUID();
      const v: Values = { partition: 'aws', region: 'eu-central-1', account: '123456789012', bucket: 'photo-gallery-prod-123456789012' };
      const object = (key: string) => `arn:aws:s3:::${v.bucket}/${key}`;
      const keys = {
        original: object(`images/${id}.jpg`),
        variant: object(variantKey(id, 'thumb')),
        pending: object(pendingKey(id)),
        elsewhere: object(`other/${id}`),
        lookalike: object(`images-old/${id}.jpg`),
      };
      const queue = `arn:aws:sqs:${v.region}:${v.account}:ProcessingFailures`;
      const parameter = (stage: string) => `arn:aws:ssm:${v.region}:${v.account}:parameter/photo-gallery/${stage}/database-url`;
      const key = `arn:aws:kms:${v.region}:${v.account}:key/${randomUUID()}`;
      const fns = Object.keys(NEEDS);
      const logStream = (fn: string) =>
        `arn:aws:logs:${v.region}:${v.account}:log-group:/aws/lambda/photo-gallery-prod-${fn}:log-stream:2026/11/27/[$LATEST]0123`;
      /** Every request tried, named as in NEEDS: [name, action, resource, condition keys]. */
      const tries: [string, string, string, Record<string, string>][] = [
        ...['GetObject', 'PutObject', 'DeleteObject'].flatMap((a) =>
          Object.entries(keys).map(([k, arn]): [string, string, string, Record<string, string>] => [`s3:${a} ${k}`, `s3:${a}`, arn, {}]),
        ),
        ['s3:ListBucket bucket', 's3:ListBucket', `arn:aws:s3:::${v.bucket}`, {}],
        ...['SendMessage', 'ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'].map(
          (a): [string, string, string, Record<string, string>] => [`sqs:${a} queue`, `sqs:${a}`, queue, {}],
        ),
        ['ssm:GetParameters prod', 'ssm:GetParameters', parameter('prod'), {}],
        ['ssm:GetParameters staging', 'ssm:GetParameters', parameter('staging'), {}],
        ['kms:Decrypt via ssm', 'kms:Decrypt', key, { 'kms:ViaService': `ssm.${v.region}.amazonaws.com` }],
        ['kms:Decrypt directly', 'kms:Decrypt', key, {}],
        ...fns.flatMap((fn) =>
          ['CreateLogStream', 'PutLogEvents'].map((a): [string, string, string, Record<string, string>] => [
            `logs:${a} ${fn}`,
            `logs:${a}`,
            logStream(fn),
            {},
          ]),
        ),
      ];
      const secrets = ['ssm:GetParameters prod', 'kms:Decrypt via ssm'];
      for (const fn of fns) {
        const [role = '', { functions: siblings = [] } = {}] = Object.entries(ROLES).find(([, r]) => r.functions.includes(fn)) ?? [];
        const allowed = tries
          .filter(([, action, resource, context]) => allows(template, role, action, resource, context, v))
          .map(([name]) => name);
        const need = NEEDS[fn] ?? { secrets: false, calls: [] };
        const expected = [
          ...siblings.flatMap((s) => [`logs:CreateLogStream ${s}`, `logs:PutLogEvents ${s}`]),
          ...(need.secrets ? secrets : []),
          ...need.calls.map(([call]) => call),
        ];
        expect(allowed.sort(), fn).toEqual([...new Set(expected)].sort());
      }
    });

    it('sets each function its reserved concurrency from /photo-gallery/prod/reserved-concurrency', () => {
      const reserved = Object.fromEntries(lambdas(template).map(([id, fn]) => [id, fn.ReservedConcurrentExecutions]));
      expect(reserved).toEqual(Object.fromEntries(Object.keys(NEEDS).map((fn) => [logicalId(fn), fn === 'imagesCreate' ? 4 : 10])));
    });

    it('throttles every route of the stage at API Gateway, by default, before a flood reaches a function', () => {
      expect(template.Resources.HttpApiStage?.Properties.DefaultRouteSettings).toEqual({
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
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
      const read = (headers: Record<string, string>): Call => ({
        method: 'GET',
        path: `/api/v1/images/${id}`,
        route: 'GET /api/v1/images/{id}',
        pathParameters: { id },
        headers,
      });
      // A deployed gallery is private: reading takes a key too.
      const [anonymous, got] = await coldStart('imagesGet', [read({}), read({ authorization: `Bearer ${apiKey}` })]);
      expect(anonymous?.status).toBe(401);
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

    it('refuses a database connection that does not verify the certificate: at packaging, and at cold start; an opt-out warns', async () => {
      await putStage('tls-require', { ...secrets, 'database-url': `${secrets['database-url']}?sslmode=require` });
      const { ok, out } = await serverless(['print', '--stage', 'tls-require']);
      expect(ok).toBe(false);
      expect(out).toContain(
        'stage "tls-require": /photo-gallery/tls-require/database-url does not verify the server\'s certificate: add sslmode=verify-full to it',
      );
      // The parameter changed after the deploy: the functions refuse it themselves.
      const get: Call = { method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images' };
      const stage = { SSM_PARAMETER_PATH: '/photo-gallery/tls-require' };
      await expect(coldStart('imagesList', [get], { ...stage, DB_TLS_UNVERIFIED: '' })).rejects.toThrow(
        /DATABASE_URL \(SSM parameter \/photo-gallery\/tls-require\/database-url\) does not verify the server's certificate: add sslmode=verify-full/,
      );
      const keyed: Call = { ...get, headers: { authorization: `Bearer ${apiKey}` } };
      const opted = await coldStartOutput('imagesList', [keyed], { ...stage, DB_TLS_UNVERIFIED: 'true', LOG_LEVEL: 'warn' });
      // It starts, and warns; it still encrypts: this database offers no TLS, so it is not read in the clear.
      expect(opted.stderr).toMatch(/"level":"warn","msg":"DATABASE_URL does not verify the database server's certificate/);
      expect(opted.answers.map((a) => a.status)).toEqual([503]);
      expect(opted.stderr).toMatch(/secure TLS connection/);
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
      await aws.putParameters({
        [`/photo-gallery/${stage}/reserved-concurrency`]: value,
        [`/photo-gallery/${stage}/db-tls-unverified`]: 'true',
      });
      const { ok, out } = await serverless(['print', '--stage', stage]);
      expect(ok).toBe(false);
      expect(out).toContain(`/photo-gallery/${stage}/reserved-concurrency is malformed (${why}); the format is <function>=<n>,…`);
    });
  },
);
