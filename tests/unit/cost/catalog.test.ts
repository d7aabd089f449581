import { Catalog, decimalProduct } from '../../../src/prices/catalog';
import catalog from '../../../src/prices/catalog/prices.json';

describe('price catalogue', () => {
  const c = new Catalog();
  it('gives every price a unit, region, currency, known source and as-of date', () => {
    for (const t of catalog.tables) {
      expect(t.unit).toBeTruthy();
      expect(t.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
      expect(t.currency).toBe(t.region.startsWith('cn-') ? 'CNY' : 'USD');
      expect(Object.keys(catalog.sources)).toContain(t.source);
      expect(t.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      for (const v of Object.values(t.prices)) expect(typeof v === 'string' ? v : v.price).toMatch(/^\d+(\.\d+)?$/);
    }
  });

  it('holds no UNVERIFIED figure', () => {
    expect(c.find('codebuild', 'BUILD_GENERAL1_2XLARGE', 'us-east-1')).toBeUndefined();
    expect(c.find('sagemaker-hosting', 'ml.g6e.2xlarge', 'us-east-1')).toBeUndefined();
    expect(c.find('sagemaker-hosting', 'ml.c4.2xlarge', 'us-east-1')).toBeUndefined();
    expect(c.find('ec2', 'p5e.48xlarge', 'us-east-1')).toBeUndefined();
    expect(c.find('ec2', 'g6.4xlarge', 'us-east-1')?.price).toBe('1.3232');
  });

  it('derives SageMaker prices exactly and labels them', () => {
    expect(decimalProduct('1.35296', '1.25')).toBe('1.6912');
    expect(decimalProduct('0.8048', '1.40')).toBe('1.12672');
    expect(c.derivedSageMaker('ml.g6.xlarge', 'us-east-1')).toMatchObject({ price: '1.12672', origin: 'derived', source: 'S2 × 1.40' });
    expect(c.derivedSageMaker('ml.p3.8xlarge', 'us-east-1')).toBeUndefined();
  });
});
