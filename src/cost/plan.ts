import type { BedrockDeployment, Deployment, Spec } from '../config/types';
import type { PlanPart } from '../core/plan-part';
import { selectEnvironment } from '../config/select';
import { PriceBook, estimateDeployments } from './estimate';
import { buildReport, reportJson } from './report';
import { renderReport, summaryLines } from './render';

export interface CostPlanOptions {
  environmentName?: string;
  hoursPerMonth?: number;
  /** The target: bedrock deployments priced beside `deployments` (their provisioned throughput). */
  bedrock?: BedrockDeployment[];
}

/** The cost estimate as markdown and JSON, offline from the catalogue (no base to compare with). */
export async function planCost(spec: Spec, deployments: Deployment[], options: CostPlanOptions): Promise<PlanPart> {
  const environment = options.environmentName ? selectEnvironment(spec, options.environmentName, '--environment') : undefined;
  const prices = new PriceBook();
  const head = estimateDeployments(deployments, { hoursPerMonth: options.hoursPerMonth, environment, environmentName: options.environmentName, prices, spec, bedrock: options.bedrock });
  const report = buildReport({
    project: spec.project,
    head,
    prices: prices.usedPrices(),
    priceNotes: ['All prices from the catalogue in the repository (the plan runs offline).'],
  });
  return {
    files: [
      { path: 'cost/estimate.md', content: renderReport(report, { limit: 1_000_000 }) },
      { path: 'cost/estimate.json', content: JSON.stringify(reportJson(report), null, 2) + '\n' },
    ],
    summary: summaryLines(report),
  };
}
