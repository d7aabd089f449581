import { didYouMean, nearest } from '../../../src/config/suggest';

describe('"did you mean"', () => {
  it('suggests what is a typo away', () => {
    expect(didYouMean('chta', ['chat', 'code-assistant'])).toBe('Did you mean "chat"?');
    expect(didYouMean('ml.g5.2xlarg', ['ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.p4d.24xlarge'], 1)).toBe('Did you mean "ml.g5.2xlarge"?');
    expect(didYouMean('VLLM', ['vllm', 'tgi', 'lmi'])).toBe('Did you mean "vllm"?');
  });

  it('suggests nothing for an unrelated word (only the list that follows it)', () => {
    expect(didYouMean('jumpstart', ['huggingface', 's3', 'image', 'sizeGb', 'bakeIntoImage'])).toBe('');
    expect(didYouMean('value', ['enabled', 's3Uri', 'samplingPercentage'])).toBe('');
  });

  it('nearest still orders every candidate, close or not', () => {
    expect(nearest('jumpstart', ['image', 's3'], 2)).toHaveLength(2);
  });
});
