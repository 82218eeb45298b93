/**
 * Reads the functions' IAM roles out of a compiled CloudFormation template: what each role grants,
 * as (action, resource) pairs with the template's intrinsic functions resolved, and whether a role
 * allows one concrete request, evaluated as IAM does for the subset of the policy language the
 * template may use (Allow statements, exact actions, `*` and `?` in resources, StringEquals
 * conditions). Anything outside that subset throws, so a policy written otherwise fails the tests
 * instead of being misread.
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
export type Template = { Resources: Record<string, Resource> };

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Record<string, Record<string, Json>>;
}

/** What the template's references stand for: symbolic (`<region>`) for the tables, concrete for the requests. */
export interface Values {
  partition: string;
  region: string;
  account: string;
  bucket: string;
}

export const SYMBOLIC: Values = { partition: 'aws', region: '<region>', account: '<account>', bucket: '<bucket>' };

/** Resolves Ref (pseudo parameters, the bucket), Fn::Join, Fn::Sub (pseudo parameters) and Fn::GetAtt Arn of the resources a role names. */
export function resolve(template: Template, value: Json, v: Values): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`not a resolvable value: ${JSON.stringify(value)}`);
  const [[fn, arg] = []] = Object.entries(value);
  const pseudo: Record<string, string> = { 'AWS::Partition': v.partition, 'AWS::Region': v.region, 'AWS::AccountId': v.account };
  if (fn === 'Ref' && typeof arg === 'string' && arg in pseudo) return pseudo[arg] as string;
  if (fn === 'Ref' && typeof arg === 'string' && template.Resources[arg]?.Type === 'AWS::S3::Bucket') return v.bucket;
  if (fn === 'Fn::Join' && Array.isArray(arg) && typeof arg[0] === 'string' && Array.isArray(arg[1])) {
    return arg[1].map((part) => resolve(template, part, v)).join(arg[0]);
  }
  if (fn === 'Fn::Sub' && typeof arg === 'string') return arg.replace(/\$\{(AWS::[A-Za-z]+)\}/g, (_, name: string) => pseudo[name] ?? '');
  if (fn === 'Fn::GetAtt' && Array.isArray(arg) && arg[1] === 'Arn' && typeof arg[0] === 'string') {
    const target = template.Resources[arg[0]];
    if (target?.Type === 'AWS::S3::Bucket') return `arn:${v.partition}:s3:::${v.bucket}`;
    // A log group's Arn attribute ends in ":*" (CloudFormation's documented form).
    if (target?.Type === 'AWS::Logs::LogGroup') {
      return `arn:${v.partition}:logs:${v.region}:${v.account}:log-group:${target.Properties.LogGroupName}:*`;
    }
    if (target?.Type === 'AWS::SQS::Queue') return `arn:${v.partition}:sqs:${v.region}:${v.account}:${arg[0]}`;
  }
  throw new Error(`not a resolvable value: ${JSON.stringify(value)}`);
}

/** The statements of a role's policies, checked to be of the subset this module evaluates. */
export function statementsOf(template: Template, roleId: string): Statement[] {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role in the template`);
  const {
    Policies = [],
    ManagedPolicyArns,
    PermissionsBoundary,
    ...rest
  } = role.Properties as {
    Policies?: { PolicyDocument: { Statement: Statement[] } }[];
    ManagedPolicyArns?: unknown;
    PermissionsBoundary?: unknown;
  };
  if (ManagedPolicyArns !== undefined || PermissionsBoundary !== undefined) throw new Error(`${roleId} has managed policies`);
  if (Object.keys(rest).some((k) => !['AssumeRolePolicyDocument', 'Path', 'RoleName'].includes(k))) {
    throw new Error(`${roleId} has properties this reader does not know: ${Object.keys(rest).join(', ')}`);
  }
  const statements = Policies.flatMap((p) => p.PolicyDocument.Statement);
  for (const s of statements) {
    const keys = Object.keys(s).sort();
    if (s.Effect !== 'Allow' || keys.some((k) => !['Action', 'Condition', 'Effect', 'Resource'].includes(k))) {
      throw new Error(`${roleId}: a statement outside the subset read here: ${JSON.stringify(s)}`);
    }
    if ([s.Action].flat().some((a) => /[*?]/.test(a))) throw new Error(`${roleId}: a wildcard action: ${JSON.stringify(s.Action)}`);
    for (const [operator, values] of Object.entries(s.Condition ?? {})) {
      if (operator !== 'StringEquals' || Object.values(values).some((x) => typeof x === 'object' && Array.isArray(x))) {
        throw new Error(`${roleId}: a condition outside the subset read here: ${JSON.stringify(s.Condition)}`);
      }
    }
  }
  return statements;
}

/** Everything a role grants, one line per action and resource: `s3:GetObject arn:…/images/*`, a condition after ` if `. */
export function grants(template: Template, roleId: string, v: Values = SYMBOLIC): string[] {
  return statementsOf(template, roleId)
    .flatMap((s) => {
      const condition = Object.entries(s.Condition?.StringEquals ?? {})
        .map(([key, value]) => `${key}=${resolve(template, value, v)}`)
        .join(' ');
      return [s.Action]
        .flat()
        .flatMap((action) =>
          [s.Resource].flat().map((resource) => `${action} ${resolve(template, resource, v)}${condition ? ` if ${condition}` : ''}`),
        );
    })
    .sort();
}

/** IAM's resource match: `*` any run of characters, `?` one, everything else literally. */
const matches = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  ).test(value);

/** Whether the role allows `action` on the concrete `resource`, given the request's condition keys. */
export function allows(
  template: Template,
  roleId: string,
  action: string,
  resource: string,
  context: Record<string, string>,
  v: Values,
): boolean {
  return statementsOf(template, roleId).some(
    (s) =>
      [s.Action].flat().includes(action) &&
      [s.Resource].flat().some((r) => matches(resolve(template, r, v), resource)) &&
      Object.entries(s.Condition?.StringEquals ?? {}).every(([key, value]) => context[key] === resolve(template, value, v)),
  );
}
