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

describe('price catalogue, regional extension (prices.md §4c)', () => {
  const c = new Catalog();
  it('holds the verified EC2 GPU prices of us-east-2, eu-west-2, ap-southeast-1, ap-southeast-2 and ap-south-1', () => {
    expect(c.find('ec2', 'g5.xlarge', 'eu-west-2')?.price).toBe('1.277');
    expect(c.find('ec2', 'p4d.24xlarge', 'ap-south-1')?.price).toBe('26.3444');
    expect(c.find('ec2', 'g6e.48xlarge', 'us-east-2')?.price).toBe('30.13118');
    expect(c.find('ec2', 'inf2.xlarge', 'ap-southeast-1')?.price).toBe('1.06148');
    expect(c.find('ec2', 'p5.4xlarge', 'ap-southeast-2')?.price).toBe('8.944');
    expect(c.find('ec2', 'trn1.32xlarge', 'us-east-2')?.price).toBe('21.5');
    // Not offered there: no price in any source.
    expect(c.find('ec2', 'g5.xlarge', 'ap-southeast-1')).toBeUndefined();
    // And SageMaker hosting there, derived (prices.md §4b: 1.7878 in eu-west-2).
    expect(c.derivedSageMaker('ml.g5.xlarge', 'eu-west-2')?.price).toBe('1.7878');
  });
});
