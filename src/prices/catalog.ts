/**
 * The price catalogue: list prices kept in the repository (src/prices/catalog/prices.json), each with
 * its unit, region, currency, source and as-of date, loaded without network. A derived SageMaker
 * price (EC2 × observed mark-up) is offered only where no verified one exists, and is labelled so.
 */
import { partitionOf } from '../core/aws';
import catalogJson from './catalog/prices.json';
import { nearest } from '../config/suggest';
import type { Currency } from './currency';

export type { Currency } from './currency';

export type PriceService =
  | 'sagemaker-hosting'
  | 'ec2'
  | 'codebuild'
  | 'ecr'
  | 's3'
  | 'secretsmanager'
  | 'sns'
  | 'kms'
  | 'elb'
  | 'vpc'
  | 'ebs'
  | 'sagemaker-storage'
  | 'fargate';

/** Where a price came from: the catalogue (verified), arithmetic on it (derived), or the Price List API (live). */
export type PriceOrigin = 'catalog' | 'derived' | 'catalog-other-region' | 'live';

export interface Price {
  service: PriceService;
  key: string;
  region: string;
  currency: Currency;
  /** Decimal string exactly as the source gives it. */
  price: string;
  unit: string;
  origin: PriceOrigin;
  /** Source key (S1...) or "AWS Price List API". */
  source: string;
  asOf: string;
  note?: string;
  /** The date of a price cut this price predates: older than the list price (labelled "stale" wherever used). */
  stale?: string;
}

interface CatalogTable {
  service: string;
  region: string;
  currency: string;
  unit: string;
  source: string;
  asOf: string;
  note?: string;
  prices: Record<string, string | { price: string; note?: string; staleSince?: string }>;
}

interface MarkupRule {
  families: string[];
  sizes?: string[];
  factor: string;
  note?: string;
}

export interface CatalogSource {
  repository: string;
  path: string;
  commit: string;
  what: string;
}

interface CatalogDocument {
  sources: Record<string, CatalogSource>;
  tables: CatalogTable[];
  derived: { note: string; sagemakerMarkup: MarkupRule[] };
}

const doc = catalogJson as unknown as CatalogDocument;

export function currencyOf(region: string): Currency {
  return partitionOf(region) === 'aws-cn' ? 'CNY' : 'USD';
}

/** Region every USD supporting-service price falls back to (labelled) when its own region has none. */
export const REFERENCE_REGION = 'us-east-1';

export class Catalog {
  private readonly index = new Map<string, Price>();

  constructor(private readonly document: CatalogDocument = doc) {
    for (const t of document.tables) {
      for (const [key, entry] of Object.entries(t.prices)) {
        const value = typeof entry === 'string' ? { price: entry } : entry;
        const id = Catalog.id(t.service as PriceService, key, t.region);
        // The first table that names a price wins: tables are ordered from the primary source down.
        if (this.index.has(id)) continue;
        this.index.set(id, {
          service: t.service as PriceService,
          key,
          region: t.region,
          currency: t.currency as Currency,
          price: value.price,
          unit: t.unit,
          origin: 'catalog',
          source: t.source,
          asOf: t.asOf,
          note: [t.note, value.note].filter(Boolean).join(' ') || undefined,
          ...('staleSince' in value && value.staleSince ? { stale: value.staleSince } : {}),
        });
      }
    }
  }

  private static id(service: PriceService, key: string, region: string): string {
    return `${service}|${region}|${key}`;
  }

  get sources(): Record<string, CatalogSource> {
    return this.document.sources;
  }

  get derivedNote(): string {
    return this.document.derived.note;
  }

  /** A verified price, or undefined. */
  find(service: PriceService, key: string, region: string): Price | undefined {
    return this.index.get(Catalog.id(service, key, region));
  }

  /** Keys priced for a service (in one region, or anywhere). */
  keys(service: PriceService, region?: string): string[] {
    const out = new Set<string>();
    for (const p of this.index.values()) if (p.service === service && (!region || p.region === region)) out.add(p.key);
    return [...out];
  }

  regions(service: PriceService, key?: string): string[] {
    const out = new Set<string>();
    for (const p of this.index.values()) if (p.service === service && (!key || p.key === key)) out.add(p.region);
    return [...out].sort();
  }

  /** SageMaker hosting price derived from the EC2 price of the same size and region (labelled DERIVED). */
  derivedSageMaker(instanceType: string, region: string): Price | undefined {
    const ec2Type = instanceType.replace(/^ml\./, '');
    const [family = '', size = ''] = ec2Type.split('.');
    const rule = this.document.derived.sagemakerMarkup.find((r) => r.families.includes(family) && (!r.sizes || r.sizes.includes(size)));
    const ec2 = this.find('ec2', ec2Type, region);
    if (!rule || !ec2) return undefined;
    return {
      service: 'sagemaker-hosting',
      key: instanceType,
      region,
      currency: ec2.currency,
      price: decimalProduct(ec2.price, rule.factor),
      unit: 'instance-hour',
      origin: 'derived',
      source: `${ec2.source} × ${rule.factor}`,
      asOf: ec2.asOf,
      note: `Estimate: EC2 ${ec2Type} ${ec2.price} ${ec2.currency}/h × SageMaker mark-up ${rule.factor} (DERIVED, no published price).${rule.note ? ` ${rule.note}` : ''}`,
    };
  }

  /** An instance-hour of a deployment target: SageMaker hosting (verified, else derived from EC2) or EC2 (ec2, ecs). */
  instanceHour(target: string, instanceType: string, region: string): Price | undefined {
    if (!target.startsWith('sagemaker')) return this.find('ec2', instanceType, region);
    return this.find('sagemaker-hosting', instanceType, region) ?? this.derivedSageMaker(instanceType, region);
  }

  /** The closest priced types, for "no price for X" errors. */
  nearestKeys(service: PriceService, key: string, region: string, limit = 3): string[] {
    const inRegion = this.keys(service, region);
    return nearest(key, inRegion.length > 0 ? inRegion : this.keys(service), limit);
  }
}

let shared: Catalog | undefined;
export function defaultCatalog(): Catalog {
  return (shared ??= new Catalog());
}

/** Exact product of two decimal strings, as a decimal string (no binary float rounding). */
export function decimalProduct(a: string, b: string): string {
  const [ai, af = ''] = a.split('.');
  const [bi, bf = ''] = b.split('.');
  const product = BigInt(ai + af) * BigInt(bi + bf);
  const scale = af.length + bf.length;
  const digits = product.toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : whole;
}
