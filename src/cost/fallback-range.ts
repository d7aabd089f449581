/**
 * The estimate of a capacity fallback list (issue 22.6): the totals price the first type, the one the
 * deploy tries first. The deploy may instead run on a later type, so a note gives each type's monthly
 * range and the range over all of them.
 */
import { DeployError } from '../core/errors';
import type { Deployment } from '../config/types';
import { EstimateOptions, estimateDeployments } from './estimate';
import { formatRange, Range } from './money';
import type { Currency } from '../prices/currency';

/** One line per deployment whose instanceType is a list of more than one type. */
export function fallbackRangeNotes(deployments: Deployment[], options: EstimateOptions): string[] {
  return deployments.filter((d) => d.instanceTypes.length > 1).flatMap((d) => {
    const byCurrency = new Map<Currency, { type: string; monthly?: Range }[]>();
    for (const type of d.instanceTypes) {
      let parts;
      try {
        parts = estimateDeployments([{ ...d, instanceType: type }], options).deployments;
      } catch (err) {
        if (!(err instanceof DeployError)) throw err;
        parts = undefined;
      }
      for (const part of parts ?? []) {
        const row = { type, monthly: part.unpriced.length ? undefined : part.monthly };
        byCurrency.set(part.currency, [...(byCurrency.get(part.currency) ?? []), row]);
      }
    }
    return [...byCurrency].map(([currency, rows]) => {
      const each = rows.map((r) => `${r.type} ${r.monthly ? formatRange(r.monthly, currency) : 'unpriced'}`).join(', ');
      const priced = rows.flatMap((r) => (r.monthly ? [r.monthly] : []));
      const all = priced.length ? { low: Math.min(...priced.map((m) => m.low)), high: Math.max(...priced.map((m) => m.high)) } : undefined;
      return `${d.name}: instanceType is a capacity fallback list (the deploy takes the first type AWS has capacity for): ${each} a month${all ? `; ${formatRange(all, currency)} over all of them` : ''}. The totals price ${d.instanceTypes[0]}.`;
    });
  });
}
