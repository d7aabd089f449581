import { mockClient } from 'aws-sdk-client-mock';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { memoryReporter } from '../../../src/core/log';
import { fetchLivePrices, neededInstancePrices, parseHourlyPrice } from '../../../src/cost/live';
import { estimateDeployments, PriceBook } from '../../../src/cost/estimate';
import { buildReport } from '../../../src/cost/report';
import { renderReport } from '../../../src/cost/render';
import { sagemaker, specOf } from './fixtures';

const pricing = mockClient(PricingClient);

function product(usd: string) {
  return JSON.stringify({
    product: { attributes: { instanceName: 'ml.g4dn.xlarge', component: 'Hosting' } },
    publicationDate: '2026-10-01T00:00:00Z',
    terms: { OnDemand: { 'X.JRTCKXETXF': { effectiveDate: '2026-10-01T00:00:00Z', priceDimensions: { 'X.6YS6EN2CT7': { unit: 'Hrs', pricePerUnit: { USD: usd } } } } } },
  });
}

beforeEach(() => pricing.reset());

describe('live prices', () => {
  it('asks GetProducts once per needed price and the estimate uses it, labelled', async () => {
    pricing.on(GetProductsCommand).resolves({ PriceList: [product('0.7360000000')] });
    const spec = specOf(sagemaker('one', 'ml.g4dn.xlarge') + sagemaker('two', 'ml.g4dn.xlarge'));
    const deployments = Object.values(spec.deployments);
    const needed = neededInstancePrices(deployments);
    expect(needed).toHaveLength(1);
    const reporter = memoryReporter();
    const live = await fetchLivePrices(needed, { reporter });
    const calls = pricing.commandCalls(GetProductsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toMatchObject({
      ServiceCode: 'AmazonSageMaker',
      Filters: expect.arrayContaining([
        { Type: 'TERM_MATCH', Field: 'component', Value: 'Hosting' },
        { Type: 'TERM_MATCH', Field: 'instanceName', Value: 'ml.g4dn.xlarge' },
        { Type: 'TERM_MATCH', Field: 'regionCode', Value: 'us-east-1' },
      ]),
    });
    const book = new PriceBook(undefined, live.prices);
    const est = estimateDeployments(deployments, { prices: book, spec });
    const price = est.deployments[0].resources[0].components[0].price!;
    expect(price).toMatchObject({ price: '0.736', origin: 'live', asOf: '2026-10-01' });
    const body = renderReport(buildReport({ project: 'p', head: est, prices: book.usedPrices(), priceNotes: live.notes }));
    expect(body).toMatch(/1 instance price\(s\) from the AWS Price List API/);
    expect(body).toMatch(/\| sagemaker-hosting ml\.g4dn\.xlarge \| 0\.736 USD \| instance-hour \| us-east-1 \| AWS Price List API/);
  });

  it('falls back to the catalogue, with a warning, when the API fails', async () => {
    pricing.on(GetProductsCommand).rejects(Object.assign(new Error('no credentials'), { name: 'CredentialsProviderError' }));
    const spec = specOf(sagemaker('one', 'ml.g4dn.xlarge'));
    const reporter = memoryReporter();
    const live = await fetchLivePrices(neededInstancePrices(Object.values(spec.deployments)), { reporter });
    expect(live.prices.size).toBe(0);
    expect(live.notes.join()).toMatch(/remaining prices come from the catalogue/);
    expect(reporter.captured.annotations[0]).toMatchObject({ level: 'warning', title: 'Live prices unavailable' });
  });

  it('says which prices the API had none for', async () => {
    pricing.on(GetProductsCommand).resolves({ PriceList: [] });
    const spec = specOf(sagemaker('one', 'ml.g4dn.xlarge'));
    const live = await fetchLivePrices(neededInstancePrices(Object.values(spec.deployments)), { reporter: memoryReporter() });
    expect(live.notes.join()).toMatch(/no hourly price for ml\.g4dn\.xlarge in us-east-1: catalogue used/);
  });

  it('reads the on-demand hourly USD dimension', () => {
    expect(parseHourlyPrice(product('1.5150000000'))).toEqual({ price: '1.515', asOf: '2026-10-01' });
    expect(parseHourlyPrice(JSON.stringify({ terms: { OnDemand: {} } }))).toBeUndefined();
  });
});
