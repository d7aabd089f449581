/**
 * Live prices from the AWS Price List Query API (GetProducts), asked once per run for each
 * instance-hour price the estimate needs. A price the API cannot give falls back to the catalogue,
 * and the report says which prices came from where.
 */
import type { Deployment, EnvironmentSpec } from '../config/types';
import { regionsFor } from '../config/regions';
import { awsClient, Credentials, partitionOf } from '../core/aws';
import { errorMessage, httpStatus } from '../core/errors';
import { withRetries } from '../core/poll';
import type { Reporter } from '../core/log';
import type { Price, PriceService } from '../prices/catalog';
import { PriceBook } from './estimate';

/** The Price List API is served from these regions only. */
export const PRICING_REGIONS = ['us-east-1', 'eu-central-1', 'ap-south-1'] as const;

export interface LiveOptions {
  reporter: Reporter;
  pricingRegion?: string;
  credentials?: Credentials;
}

export interface LiveResult {
  prices: Map<string, Price>;
  notes: string[];
}

interface Needed {
  service: PriceService;
  key: string;
  region: string;
}

/** Instance prices an estimate of these deployments needs (China regions are not in this price list). */
export function neededInstancePrices(deployments: Deployment[], environment?: EnvironmentSpec): Needed[] {
  const out = new Map<string, Needed>();
  for (const d of deployments) {
    const service: PriceService = d.target.startsWith('sagemaker') ? 'sagemaker-hosting' : 'ec2';
    for (const region of regionsFor(d, environment)) {
      if (partitionOf(region) === 'aws-cn') continue;
      out.set(PriceBook.liveKey(service, d.instanceType, region), { service, key: d.instanceType, region });
    }
  }
  return [...out.values()];
}

function filtersFor(n: Needed): { Type: 'TERM_MATCH'; Field: string; Value: string }[] {
  const f = (Field: string, Value: string) => ({ Type: 'TERM_MATCH' as const, Field, Value });
  if (n.service === 'sagemaker-hosting') return [f('component', 'Hosting'), f('instanceName', n.key), f('regionCode', n.region)];
  return [f('instanceType', n.key), f('regionCode', n.region), f('operatingSystem', 'Linux'), f('tenancy', 'Shared'), f('preInstalledSw', 'NA'), f('capacitystatus', 'Used')];
}

interface PriceListProduct {
  product?: { attributes?: Record<string, string> };
  publicationDate?: string;
  terms?: { OnDemand?: Record<string, { effectiveDate?: string; priceDimensions?: Record<string, { unit?: string; pricePerUnit?: Record<string, string> }> }> };
}

/** The on-demand hourly USD price in a GetProducts PriceList entry, or undefined. */
export function parseHourlyPrice(entry: unknown): { price: string; asOf: string } | undefined {
  const product = (typeof entry === 'string' ? JSON.parse(entry) : JSON.parse(String(entry))) as PriceListProduct;
  for (const term of Object.values(product.terms?.OnDemand ?? {})) {
    for (const dim of Object.values(term.priceDimensions ?? {})) {
      const usd = dim.pricePerUnit?.USD;
      if (dim.unit === 'Hrs' && usd !== undefined && Number(usd) > 0) {
        const price = usd.includes('.') ? usd.replace(/0+$/, '').replace(/\.$/, '') : usd;
        return { price, asOf: (term.effectiveDate ?? product.publicationDate ?? '').slice(0, 10) };
      }
    }
  }
  return undefined;
}

const retryable = (err: unknown) => {
  const status = httpStatus(err);
  return status === 429 || (status !== undefined && status >= 500);
};

export async function fetchLivePrices(needed: Needed[], options: LiveOptions): Promise<LiveResult> {
  const region = options.pricingRegion ?? 'us-east-1';
  // Imported here: an estimate from the catalogue (the default) never loads the SDK.
  const { PricingClient, GetProductsCommand } = await import('@aws-sdk/client-pricing');
  const client = awsClient(PricingClient, { region, credentials: options.credentials });
  const prices = new Map<string, Price>();
  const notes: string[] = [];
  const missing: string[] = [];
  // Sequential on purpose: a handful of calls, and the API throttles bursts.
  for (const n of needed) {
    try {
      const out = await withRetries(
        () => client.send(new GetProductsCommand({ ServiceCode: n.service === 'ec2' ? 'AmazonEC2' : 'AmazonSageMaker', Filters: filtersFor(n), FormatVersion: 'aws_v1', MaxResults: 10 })),
        { retryable: (e) => retryable(e) || (e as Error).name === 'ThrottlingException' },
      );
      const found = (out.PriceList ?? []).map(parseHourlyPrice).find((p: { price: string; asOf: string } | undefined) => p !== undefined);
      if (!found) {
        missing.push(`${n.key} in ${n.region}`);
        continue;
      }
      prices.set(PriceBook.liveKey(n.service, n.key, n.region), {
        service: n.service,
        key: n.key,
        region: n.region,
        currency: 'USD',
        price: found.price,
        unit: 'instance-hour',
        origin: 'live',
        source: 'AWS Price List API',
        asOf: found.asOf || new Date().toISOString().slice(0, 10),
        note: n.service === 'sagemaker-hosting' ? 'component Hosting' : 'Linux, shared tenancy',
      });
    } catch (err) {
      options.reporter.warning(`Live prices: GetProducts failed (${errorMessage(err)}); using the catalogue for the remaining prices.`, undefined, 'Live prices unavailable');
      notes.push(`Live prices were asked for but the AWS Price List API failed (${errorMessage(err).slice(0, 200)}): the remaining prices come from the catalogue.`);
      break;
    }
  }
  if (prices.size > 0) notes.push(`${prices.size} instance price(s) from the AWS Price List API (${region}); all other prices from the catalogue.`);
  if (missing.length > 0) notes.push(`The Price List API had no hourly price for ${missing.join(', ')}: catalogue used.`);
  return { prices, notes };
}
