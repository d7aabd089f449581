/** Which files of a model are its weights (Hub siblings and S3 objects read the same rule). */
import { hubWeightsBytes, weightFilesBytes } from '../../../src/fit/model-facts';

describe('weightFilesBytes', () => {
  it('safetensors when there are any (a repository holding both formats loads those), else PyTorch files', () => {
    expect(weightFilesBytes([{ name: 'a/model-00001-of-00002.safetensors', size: 5 }, { name: 'a/model-00002-of-00002.safetensors', size: 4 }, { name: 'a/pytorch_model.bin', size: 100 }, { name: 'a/config.json', size: 1 }])).toBe(9);
    expect(weightFilesBytes([{ name: 'pytorch_model-00001.bin', size: 7 }, { name: 'extra.pt', size: 3 }, { name: 'tokenizer.json', size: 2 }])).toBe(10);
  });

  it('a SageMaker model.tar.gz when there is nothing else; GGUF files and sizeless entries are not counted', () => {
    expect(weightFilesBytes([{ name: 'x/model.tar.gz', size: 42 }])).toBe(42);
    expect(weightFilesBytes([{ name: 'q4.gguf', size: 4 }, { name: 'q8.gguf', size: 8 }])).toBeUndefined();
    expect(weightFilesBytes([{ name: 'model.safetensors' }])).toBeUndefined();
  });

  it('on the Hub, an archive in the repository is not the model', () => {
    expect(hubWeightsBytes({ sha: 'a'.repeat(40), siblings: [{ rfilename: 'model.safetensors', size: 10 }, { rfilename: 'backup.tar.gz', size: 99 }] } as Parameters<typeof hubWeightsBytes>[0])).toBe(10);
  });
});
