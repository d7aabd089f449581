/**
 * The offline plan: resolve and validate the spec, then ask each domain for what it would create:
 * the build (buildspec, Dockerfile), the stack (template, parameters) per region, and the cost.
 * No AWS account and no network needed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Deployment, Spec } from '../config/types';
import { regionsFor, selectDeployment, selectEnvironment } from '../config/load';
import type { PlanFile, PlanPart } from './types';
import { planBuild } from '../image/plan';
import { planStack } from '../deploy/plan';
import { planCost } from '../cost/plan';

export interface PlanOptions {
  deployment?: string;
  environment?: string;
  outDir: string;
  hoursPerMonth?: number;
}

export interface PlanResult {
  files: string[];
  summary: string[];
}

export async function plan(spec: Spec, options: PlanOptions): Promise<PlanResult> {
  const deployments: Deployment[] = options.deployment
    ? [selectDeployment(spec, options.deployment, '--deployment')]
    : Object.values(spec.deployments);
  const environment = options.environment ? selectEnvironment(spec, options.environment, '--environment') : undefined;
  const parts: PlanPart[] = [];
  for (const d of deployments) {
    const regions = regionsFor(d, environment);
    parts.push(prefix(`${d.name}`, planBuild(d)));
    for (const region of regions) {
      parts.push(prefix(`${d.name}/${region}`, planStack(d, { spec, region, environmentName: options.environment, environment })));
    }
  }
  parts.push(await planCost(spec, deployments, { environmentName: options.environment, hoursPerMonth: options.hoursPerMonth }));

  const written: string[] = [];
  for (const part of parts) {
    for (const f of part.files) {
      const target = path.join(options.outDir, f.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content);
      written.push(target);
    }
  }
  return { files: written, summary: parts.flatMap((p) => p.summary) };
}

function prefix(dir: string, part: PlanPart): PlanPart {
  return { summary: part.summary, files: part.files.map((f: PlanFile) => ({ ...f, path: path.join(dir, f.path) })) };
}
