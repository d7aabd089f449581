/**
 * The bootstrap template (templates/bootstrap/model-deploy-bootstrap.yaml) as CloudFormation receives it,
 * and the parameters a user gives it, checked against the template's own rules (required, AllowedValues,
 * AllowedPattern) before anything in AWS changes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError, throwIfAny } from '../core/errors';
import { didYouMean } from '../config/suggest';
import { parseTemplate, templatesDir } from '../deploy/template-loader';

export const BOOTSTRAP_TEMPLATE = 'templates/bootstrap/model-deploy-bootstrap.yaml';

interface ParameterRule {
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  Description?: string;
}

export interface BootstrapTemplate {
  file: string;
  template: Record<string, unknown>;
  /** The JSON text sent to CloudFormation. */
  body: string;
  parameters: Record<string, ParameterRule>;
}

/** The bootstrap stack of an environment: one per account and environment. */
export function bootstrapStackName(environment: string): string {
  return `model-deploy-bootstrap-${environment}`;
}

export function loadBootstrapTemplate(): BootstrapTemplate {
  // templates/stacks is found above this file (src/ or dist/cli); bootstrap/ is its sibling.
  const file = path.join(path.dirname(templatesDir()), 'bootstrap', path.basename(BOOTSTRAP_TEMPLATE));
  const template = parseTemplate(fs.readFileSync(file, 'utf8'), BOOTSTRAP_TEMPLATE);
  return { file, template, body: JSON.stringify(template), parameters: (template.Parameters ?? {}) as Record<string, ParameterRule> };
}

/**
 * The parameters to send: the stack's current values, then the given ones. Every given name must be one
 * of the template's, every value must pass its AllowedValues / AllowedPattern, and a parameter without a
 * default must have a value; all problems are reported together.
 */
export function bootstrapParameters(t: BootstrapTemplate, given: Record<string, string>, previous: Record<string, string> = {}): { ParameterKey: string; ParameterValue: string }[] {
  const names = Object.keys(t.parameters);
  const errors: DeployError[] = [];
  for (const [key, value] of Object.entries(given)) {
    const rule = t.parameters[key];
    if (!rule) {
      errors.push(new DeployError(`--parameter ${key}: the bootstrap template has no parameter ${key}`, { hint: `${didYouMean(key, names)} Its parameters: ${names.join(', ')}.` }));
      continue;
    }
    if (rule.AllowedValues && !rule.AllowedValues.map(String).includes(value)) {
      errors.push(new DeployError(`${key} is "${value}", which the template does not allow`, { hint: `One of: ${rule.AllowedValues.join(', ')}.` }));
    } else if (rule.AllowedPattern && !new RegExp(rule.AllowedPattern).test(value)) {
      errors.push(new DeployError(`${key} is "${value}", which does not match ${rule.AllowedPattern}`, { hint: rule.Description ?? `See ${BOOTSTRAP_TEMPLATE}.` }));
    }
  }
  const values = { ...Object.fromEntries(Object.entries(previous).filter(([k]) => k in t.parameters)), ...given };
  for (const [key, rule] of Object.entries(t.parameters)) {
    if (rule.Default === undefined && values[key] === undefined) {
      errors.push(new DeployError(`the bootstrap needs ${key}`, { hint: rule.Description ?? `See ${BOOTSTRAP_TEMPLATE}.` }));
    }
  }
  throwIfAny(errors);
  return Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

type RuleNode = unknown;
interface TemplateRule {
  RuleCondition?: RuleNode;
  Assertions?: { Assert: RuleNode; AssertDescription?: string }[];
}

/**
 * A rule function over parameter values: the ones the template's Rules use (Fn::Equals, Fn::Not, Fn::And,
 * Fn::Or, Fn::Contains, Ref). Any other is refused here, so a template change that needs more is caught by
 * the tests rather than skipped.
 */
function ruleValue(node: RuleNode, values: Record<string, string>): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map((n) => ruleValue(n, values));
  const [fn, arg] = Object.entries(node)[0] ?? [];
  const args = Array.isArray(arg) ? arg.map((a) => ruleValue(a, values)) : [];
  switch (fn) {
    case 'Ref':
      return values[String(arg)] ?? '';
    case 'Fn::Equals':
      return String(args[0]) === String(args[1]);
    case 'Fn::Not':
      return !args[0];
    case 'Fn::And':
      return args.every(Boolean);
    case 'Fn::Or':
      return args.some(Boolean);
    case 'Fn::Contains':
      return Array.isArray(args[0]) && args[0].map(String).includes(String(args[1]));
    default:
      throw new Error(`${BOOTSTRAP_TEMPLATE}: rule function ${String(fn)} is not evaluated before the change set`);
  }
}

/**
 * The template's Rules with these values (its defaults, the stack's current values, the given ones), as
 * CloudFormation checks them when the change set is made: each broken assertion, said with its
 * AssertDescription, before anything in AWS is asked to change.
 */
export function brokenRules(t: BootstrapTemplate, parameters: { ParameterKey: string; ParameterValue: string }[]): DeployError[] {
  const values: Record<string, string> = Object.fromEntries(Object.entries(t.parameters).map(([k, rule]) => [k, String(rule.Default ?? '')]));
  for (const p of parameters) values[p.ParameterKey] = p.ParameterValue;
  const errors: DeployError[] = [];
  for (const [name, rule] of Object.entries((t.template.Rules ?? {}) as Record<string, TemplateRule>)) {
    if (rule.RuleCondition !== undefined && !ruleValue(rule.RuleCondition, values)) continue;
    for (const a of rule.Assertions ?? []) {
      if (!ruleValue(a.Assert, values)) errors.push(new DeployError(`the bootstrap template's rule ${name} is not met: ${a.AssertDescription ?? 'see the template'}`, { title: 'Bootstrap parameters', hint: `See the Rules of ${BOOTSTRAP_TEMPLATE}.` }));
    }
  }
  return errors;
}
