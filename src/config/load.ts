/**
 * Loads model-deploy.yml: parse with positions (./yaml-positions), validate against the JSON Schema
 * the editors use (./schema-errors says what is wrong), merge defaults into each deployment and apply
 * the schema's (./defaults), then check what a schema cannot say (./checks). Every problem names
 * file:line, the field, and what would be valid. Selecting what an action works on: ./select.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError, throwIfAny } from '../core/errors';
import type { BedrockDeployment, Deployment, DeploymentDraft, Spec } from './types';
import { BEDROCK_TARGET, bedrockOnlyFieldErrors, resolveBedrockDeployment, writtenTarget } from './bedrock';
import { bedrockThroughputChecks, semanticChecks, specChecks } from './checks';
import { nameLimitChecks } from './name-limits';
import { notificationChecks } from './notifications';
import { RawSpec, resolveDeployment, resolveEnvironments } from './defaults';
import { schemaErrors } from './schema-errors';
import { parseYaml } from './yaml-positions';
// Ajv standalone code generated from schema/model-deploy.schema.json (scripts/schema-validators.js).
import * as validators from './schema-validators.generated';

export const DEFAULT_SPEC_FILE = 'model-deploy.yml';

export interface LoadOptions {
  /** Shown in messages; defaults to the path as given. */
  displayPath?: string;
  /** How the user names the spec file: the CLI's flag ("--config"); absent, the action's `config` input. */
  configFlag?: string;
}

/** A spec file that is not there: what to create, and how the user names another (flag or input). */
export function missingSpecError(display: string, configFlag?: string, cause?: NodeJS.ErrnoException): DeployError {
  return new DeployError(
    !cause || cause.code === 'ENOENT' ? `config file ${display} does not exist` : `cannot read config file ${display}: ${cause.message}`,
    {
      location: { file: display },
      title: 'Missing deployment spec',
      hint: configFlag
        ? `Create ${DEFAULT_SPEC_FILE} here (see examples/model-deploy.yml), or pass ${configFlag} FILE.`
        : `Create ${DEFAULT_SPEC_FILE} at the repository root (see examples/model-deploy.yml), or point the \`config\` input at your spec.`,
    },
  );
}

export function loadSpec(file: string, options: LoadOptions = {}): Spec {
  const display = options.displayPath ?? file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw missingSpecError(display, options.configFlag, err as NodeJS.ErrnoException);
  }
  return parseSpec(text, display, path.dirname(path.resolve(file)));
}

export function parseSpec(text: string, file: string, specDir = process.cwd()): Spec {
  const yaml = parseYaml(text, file);
  // On a copy: the validator fills in defaults (it shares its code with the per-deployment one), and
  // defaults are merged per deployment below, after the spec's own defaults: section.
  if (!validators.document(structuredClone(yaml.data))) {
    throwIfAny(schemaErrors(validators.document.errors ?? [], yaml));
  }
  // The one cast of validated data (the copy was checked, and the data has the shape RawSpec says).
  const raw = yaml.data as RawSpec;
  const project = raw.project ?? 'model-deploy';
  const errors: DeployError[] = [];

  const environments = resolveEnvironments(raw);

  const drafts: DeploymentDraft[] = [];
  const deployments: Record<string, Deployment> = {};
  const bedrockDeployments: Record<string, BedrockDeployment> = {};
  for (const [name, own] of Object.entries(raw.deployments)) {
    // target: bedrock goes to a map of its own: nothing that reads an instance type ever sees one.
    if (writtenTarget(own, raw) === BEDROCK_TARGET) {
      const resolved = resolveBedrockDeployment(name, own, raw, yaml, file, environments);
      if (Array.isArray(resolved)) errors.push(...resolved);
      else bedrockDeployments[name] = resolved;
      continue;
    }
    errors.push(...bedrockOnlyFieldErrors(name, own, raw, yaml));
    const draft = resolveDeployment(name, own, raw, yaml, file);
    if (Array.isArray(draft)) {
      errors.push(...draft);
      continue;
    }
    const checked = semanticChecks(draft, yaml, specDir);
    errors.push(...checked.errors);
    drafts.push(draft);
    if (checked.deployment) deployments[name] = checked.deployment;
  }
  errors.push(...specChecks(environments, drafts, yaml), ...nameLimitChecks(project, environments, drafts, yaml), ...notificationChecks(environments, drafts, yaml));
  errors.push(...bedrockThroughputChecks(environments, Object.values(bedrockDeployments), yaml));
  throwIfAny(errors);
  return { file, project, environments, deployments, bedrockDeployments, locate: (p) => yaml.locate(p) };
}
