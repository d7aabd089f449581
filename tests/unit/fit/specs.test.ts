/**
 * Issue 22's table: specs a user could write, each run through `model-deploy validate` and
 * `model-deploy plan`, with the verdict and the message each must give at the spec line. Rows that
 * need the Hub read the loopback Hub (tests/support/hf-hub.ts); the others run offline
 * (HF_HUB_OFFLINE), as a fork's pull request does. Add a row for each new check.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../support/cli-in-process';
import { FakeHub, LLAMA_70B, QWEN_7B, startFakeHub } from '../../support/hf-hub';
import { useEnv } from '../../support/env';

const QWEN_SHA = QWEN_7B.refs.main ?? '';
/** Qwen2.5-7B's config.json numbers, written in the spec for offline checks. */
const QWEN_ARCH = 'architecture: { layers: 28, attentionHeads: 28, kvHeads: 4, headDim: 128, contextLength: 32768 }';
/** Llama-3.1-8B's: 131072 tokens of context, 128 KiB of bf16 KV cache per token. */
const LLAMA_8B_ARCH = 'architecture: { layers: 32, attentionHeads: 32, kvHeads: 8, headDim: 128, contextLength: 131072 }';

interface Row {
  name: string;
  /** The deployment's fields, indented by the table (4 spaces). */
  deployment: string;
  /** The Hub answers (else offline). */
  hub?: boolean;
  env?: Record<string, string>;
  verdict: 'valid' | 'refused';
  /** What validate and plan print (each pattern must match both). */
  says: RegExp[];
  /** The spec key whose line the refusal or warning names. */
  at?: string;
  /** Else the text of the line it names (a list item). */
  atText?: string;
  /** The deployment's regions (us-east-1 unless given). */
  regions?: string;
  /** What plan's summary adds (valid rows). */
  plan?: RegExp;
  /** What neither validate nor plan may print. */
  never?: RegExp[];
  /** The spec's environments: block (none unless given). */
  environments?: string;
  /** The only files plan writes for the deployment (valid rows), under plan-out/qwen/. */
  planFiles?: string[];
}

/** A Bedrock custom model of dev's account (the environments below): promote-model copies it to prod. */
const BEDROCK_MODEL = 'arn:aws:bedrock:us-east-1:111111111111:custom-model/amazon.titan-text-express-v1:0:8k/a1b2c3d4e5f6';
const BEDROCK_ENVIRONMENTS = `environments:
  dev:
    account: "111111111111"
  prod:
    account: "333333333333"
    promotionRoleArn: arn:aws:iam::333333333333:role/model-deploy-promotion`;

const hf = (revision = QWEN_SHA, extra = '') => `huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: ${revision} }${extra}`;

const ROWS: Row[] = [
  {
    name: 'fits: a 7B model on a 24 GiB GPU (figures in the spec, offline)',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/qwen: memory fits on ml\.g5\.2xlarge \(15\.7 of 21\.6 GiB usable\), weights Qwen\/Qwen2\.5-7B-Instruct@a09a35458c70/],
  },
  {
    name: 'does not fit: a 145 GB model on ml.g5.xlarge, with the cheapest types that can',
    deployment: `model:\n  ${hf()}\n  sizeGb: 145\n  ${QWEN_ARCH}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.xlarge`,
    verdict: 'refused',
    says: [/the model does not fit on ml\.g5\.xlarge: 135 GiB of weights \+ 1\.5 GiB of vLLM runtime = 137 GiB, over 1 × 24 GiB NVIDIA A10G × 0\.9/, /Types that can hold it, cheapest first: ml\.\w+\.\w+ \(\d × \d+ GiB, \$[\d.]+\/h in us-east-1\)/],
    at: 'instanceType',
  },
  {
    name: 'does not fit: the Hub says 141 GB (gated Llama 70B, HF_TOKEN sent) on four A10G',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-70B-Instruct, revision: ${LLAMA_70B.refs.main} }\nengine: { name: vllm, args: ["--tensor-parallel-size", "4"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.12xlarge`,
    hub: true,
    env: { HF_TOKEN: 'hf_testtoken_never_printed' },
    verdict: 'refused',
    says: [/does not fit on ml\.g5\.12xlarge: 131 GiB of weights \+ 6\.0 GiB of vLLM runtime = 137 GiB, over 4 × 24 GiB NVIDIA A10G × 0\.9 \(vLLM's memory utilisation\) = 86\.4 GiB usable/, /ml\.(g6e|p4d|p4de|p5|g5)\.\w+/],
    at: 'instanceType',
  },
  {
    name: 'cannot start: the KV cache of one 131072-token sequence does not fit (vLLM max-model-len defaults to the context)',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-8B-Instruct, revision: 0e9e39f249a16976918f6564b8830bc894c89659 }\n  sizeGb: 16.06\n  ${LLAMA_8B_ARCH}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'refused',
    says: [/vLLM cannot start on ml\.g5\.2xlarge: one sequence of 131072 tokens needs 16\.0 GiB of KV cache, and 5\.1 GiB is left/, /Lower the maximum length to \d+ tokens or less \(engine\.args --max-model-len N\)/],
    at: 'instanceType',
  },
  {
    name: 'fits: the same model with an fp8 KV cache and a shorter maximum length',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-8B-Instruct, revision: 0e9e39f249a16976918f6564b8830bc894c89659 }\n  sizeGb: 16.06\n  ${LLAMA_8B_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "32768", "--kv-cache-dtype", "fp8"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.g5\.2xlarge/],
  },
  {
    name: 'borderline: weights and runtime take over 90 % of the usable memory',
    deployment: `model:\n  ${hf()}\n  sizeGb: 20\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "4096"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/warning: model-deploy\.yml:\d+: deployments\.qwen: the weights and runtime take 93 % of the usable memory on ml\.g5\.2xlarge/],
    at: 'instanceType',
  },
  {
    name: 'queues: the workload\'s concurrency does not fit in the KV cache',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge\nworkload: { concurrency: 64, promptTokens: 8000, outputTokens: 1000 }`,
    verdict: 'valid',
    says: [/the workload's 64 concurrent requests of 9000 tokens need 30\.8 GiB of KV cache; 5\.9 GiB is left on ml\.g5\.2xlarge: about 12 run at once, the rest queue/],
    at: 'instanceType',
  },
  {
    name: 'refused: tensor-parallel degree above the GPUs of the type',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--tensor-parallel-size", "8"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.12xlarge`,
    verdict: 'refused',
    says: [/vLLM is set to shard across 8 devices \(engine\.args --tensor-parallel-size N\), but ml\.g5\.12xlarge has 4 GPUs/],
    at: 'engine',
  },
  {
    name: 'refused: 28 attention heads do not split across 8 GPUs',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--tensor-parallel-size", "8"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.48xlarge`,
    verdict: 'refused',
    says: [/the model has 28 attention heads, which do not split across 8 devices/, /1, 2, 4, 7 on ml\.g5\.48xlarge/],
    at: 'engine',
  },
  {
    name: 'refused: vLLM uses one of four GPUs unless told, and the model needs them all',
    deployment: `model:\n  ${hf()}\n  sizeGb: 40\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.12xlarge`,
    verdict: 'refused',
    says: [/does not fit on ml\.g5\.12xlarge/, /ml\.g5\.12xlarge has 4 GPUs: set engine\.args --tensor-parallel-size 4 to use them all/],
    at: 'instanceType',
  },
  {
    name: 'fits: TGI shards across every GPU by default',
    deployment: `model:\n  ${hf()}\n  sizeGb: 40\n  ${QWEN_ARCH}\nengine: { name: tgi }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.12xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.g5\.12xlarge \(43\.3 of 96\.0 GiB usable\)/],
  },
  {
    name: 'refused: LMI told to use two of four GPUs',
    deployment: `model:\n  ${hf()}\n  sizeGb: 60\n  ${QWEN_ARCH}\nengine: { name: lmi, env: { OPTION_TENSOR_PARALLEL_DEGREE: "2" } }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.12xlarge`,
    verdict: 'refused',
    says: [/does not fit on ml\.g5\.12xlarge: 55\.9 GiB of weights \+ 3\.0 GiB of LMI runtime/, /set engine\.env OPTION_TENSOR_PARALLEL_DEGREE/],
    at: 'instanceType',
  },
  {
    name: 'fits: parameters and dtype instead of a size',
    deployment: `model:\n  ${hf()}\n  parameters: 7.6e9\n  dtype: fp16\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.g5\.2xlarge \(15\.7 of 21\.6 GiB usable\)/],
  },
  {
    name: 'fits: a 70B model quantised to int4 on one L40S',
    deployment: `model:\n  huggingface: { id: acme/llama-70b-awq, revision: ${'a1'.repeat(20)} }\n  parameters: 70e9\n  dtype: int4\n  architecture: { layers: 80, attentionHeads: 64, kvHeads: 8, headDim: 128, contextLength: 131072 }\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g6e.xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.g6e\.xlarge \(34\.1 of 43\.2 GiB usable\)/],
  },
  {
    name: 'unpinned: the branch is resolved to its commit by the Hub, and that commit is shown',
    deployment: `model:\n  ${hf('main')}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    hub: true,
    verdict: 'valid',
    says: [/model\.huggingface\.revision "main" is a branch or tag, not a commit: the weights it names can change upstream; it is a09a35458c702b33eeacc393d103063234e8bc28 today/, /Pin the commit: revision: a09a35458c702b33eeacc393d103063234e8bc28/, /weights Qwen\/Qwen2\.5-7B-Instruct@a09a35458c702b33eeacc393d103063234e8bc28 \(main\)/, /memory fits on ml\.g5\.2xlarge/],
    at: 'huggingface',
  },
  {
    name: 'unpinned and offline: a warning, the figures of the spec still checked',
    deployment: `model:\n  huggingface: { id: Qwen/Qwen2.5-7B-Instruct }\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/revision "main" is a branch or tag, not a commit.*not resolved to a commit: offline \(HF_HUB_OFFLINE is set\)/, /memory fits on ml\.g5\.2xlarge/],
    at: 'huggingface',
  },
  {
    name: 'offline with no figures: not checked, said, never a failure',
    deployment: `model:\n  ${hf()}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/memory not checked: offline \(HF_HUB_OFFLINE is set\); give model\.sizeGb and model\.architecture/, /qwen: memory not checked on ml\.g5\.2xlarge/],
  },
  {
    name: 'fits: every figure from the Hub at the pinned commit',
    deployment: `model:\n  ${hf()}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    hub: true,
    verdict: 'valid',
    says: [/qwen: memory fits on ml\.g5\.2xlarge \(15\.7 of 21\.6 GiB usable\)/],
  },
  {
    name: 'refused: a revision the Hub does not have',
    deployment: `model:\n  ${hf('release-9')}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    hub: true,
    verdict: 'refused',
    says: [/the Hugging Face Hub has no model Qwen\/Qwen2\.5-7B-Instruct at revision release-9 \(Invalid rev id: release-9\)/],
  },
  {
    name: 'refused: a gated model without HF_TOKEN',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-70B-Instruct, revision: ${LLAMA_70B.refs.main} }\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.p4d.24xlarge`,
    hub: true,
    verdict: 'refused',
    says: [/refused to read config\.json of meta-llama\/Llama-3\.1-70B-Instruct .*\(HTTP 401\): the model is gated or private/, /Set HF_TOKEN/],
  },
  {
    name: 'gated model whose build has a token secret: the weights checked from the public model info, the config not (said)',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-70B-Instruct, revision: ${LLAMA_70B.refs.main}, tokenSecretArn: "arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-AbCdEf" }\nengine: { name: vllm, args: ["--tensor-parallel-size", "8"] }\ntarget: sagemaker-realtime\ninstanceType: ml.p4d.24xlarge`,
    hub: true,
    verdict: 'valid',
    says: [/memory fits on ml\.p4d\.24xlarge \(143\.4 of 288\.0 GiB usable\)/, /KV cache and tensor-parallel heads not checked: the Hugging Face Hub refused to read config\.json .*set HF_TOKEN/],
  },
  {
    name: 'refused: an engine version with no Deep Learning Container',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\nengine: { name: vllm, version: "0.6.3" }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'refused',
    says: [/vllm 0\.6\.3 has no AWS Deep Learning Container/, /vllm versions with a Deep Learning Container: 0\.8\.5, 0\.9\.0/],
    at: 'engine',
  },
  {
    name: 'refused: a TGI version with no Deep Learning Container',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\nengine: { name: tgi, version: "3.3.0" }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'refused',
    says: [/tgi 3\.3\.0 has no AWS Deep Learning Container/, /2\.4\.0, 3\.0\.1/],
    at: 'engine',
  },
  {
    name: 'S3 weights with no size: not checked offline, said',
    deployment: `model:\n  s3: s3://acme-models/qwen/\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/memory not checked: offline \(the size of s3:\/\/acme-models\/qwen\/ is listed only with AWS credentials: the plan role in the pull request.s estimate, the deploy role in deploy-endpoint\); give model\.sizeGb/],
  },
  {
    name: 'refused: a prebuilt image whose weights cannot fit (weights only: the engine is not known)',
    deployment: `model:\n  image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124\n  s3: s3://acme-models/big/\n  sizeGb: 30\ntarget: sagemaker-realtime\ninstanceType: ml.g5.xlarge`,
    verdict: 'refused',
    says: [/does not fit on ml\.g5\.xlarge: 27\.9 GiB of weights \+ 1\.5 GiB of the prebuilt image runtime/],
    at: 'instanceType',
  },
  {
    name: 'refused on ECS too, with EC2 prices for the alternatives',
    deployment: `model:\n  ${hf()}\n  sizeGb: 30\nengine: { name: vllm }\ntarget: ecs\ninstanceType: g5.xlarge\nsecurity:\n  certificateArn: arn:aws:acm:us-east-1:111111111111:certificate/abc\n  vpc: { vpcId: vpc-0a1b2c3d, subnets: [subnet-0a1b2c3d, subnet-1a2b3c4d], securityGroups: [sg-0a1b2c3d] }`,
    verdict: 'refused',
    says: [/does not fit on g5\.xlarge/, /Types that can hold it, cheapest first: g\w+\.\w+ \(\d × \d+ GiB, \$[\d.]+\/h in us-east-1\)/],
    at: 'instanceType',
  },
  {
    name: 'fits: Inferentia2 NeuronCores with LMI',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: lmi, env: { OPTION_MAX_MODEL_LEN: "4096" } }\ntarget: sagemaker-realtime\ninstanceType: ml.inf2.xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.inf2\.xlarge/],
  },
  {
    name: 'refused: too big for one Inferentia2 chip',
    deployment: `model:\n  ${hf()}\n  sizeGb: 40\nengine: { name: lmi }\ntarget: sagemaker-realtime\ninstanceType: ml.inf2.xlarge`,
    verdict: 'refused',
    says: [/does not fit on ml\.inf2\.xlarge/],
    at: 'instanceType',
  },
  {
    name: 'TGI 2.x caps its default length at 4096 tokens, so a long-context model still starts',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-8B-Instruct, revision: 0e9e39f249a16976918f6564b8830bc894c89659 }\n  sizeGb: 16.06\n  ${LLAMA_8B_ARCH}\nengine: { name: tgi, version: "2.4.0" }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    verdict: 'valid',
    says: [/memory fits on ml\.g5\.2xlarge/],
  },
  {
    name: 'capacity fallback: every type of the list fits, each said in the plan',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType:\n  - ml.g5.2xlarge\n  - ml.g6e.xlarge`,
    verdict: 'valid',
    says: [/qwen: memory fits on ml\.g5\.2xlarge \(15\.7 of 21\.6 GiB usable\); fallback ml\.g6e\.xlarge: fits \(15\.7 of 43\.2 GiB usable\)/],
  },
  {
    name: 'capacity fallback: the second type of the list cannot hold the model, refused at its item',
    deployment: `model:\n  ${hf()}\n  sizeGb: 30\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType:\n  - ml.g6e.xlarge\n  - ml.g5.2xlarge`,
    verdict: 'refused',
    says: [/the model does not fit on ml\.g5\.2xlarge \(the capacity fallback's type 2 of 2\): 27\.9 GiB of weights/, /The deploy may take any type of the list: remove ml\.g5\.2xlarge from it/, /Types that can hold it, cheapest first: ml\.\w+\.\w+/],
    atText: '- ml.g5.2xlarge',
  },
  {
    name: 'capacity fallback: the second type too small for the KV cache of one sequence',
    deployment: `model:\n  huggingface: { id: meta-llama/Llama-3.1-8B-Instruct, revision: 0e9e39f249a16976918f6564b8830bc894c89659 }\n  sizeGb: 16.06\n  ${LLAMA_8B_ARCH}\nengine: { name: vllm }\ntarget: sagemaker-realtime\ninstanceType: [ml.g6e.xlarge, ml.g5.2xlarge]`,
    verdict: 'refused',
    says: [/vLLM cannot start on ml\.g5\.2xlarge \(the capacity fallback's type 2 of 2\): one sequence of 131072 tokens/],
    at: 'instanceType',
  },
  {
    name: 'wrong-region key: a us-east-1 key ARN for an endpoint in us-west-2',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge\nsecurity:\n  kmsKeyId: arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555`,
    regions: 'us-west-2',
    verdict: 'refused',
    says: [/security\.kmsKeyId arn:aws:kms:us-east-1:\S+ is a key of us-east-1, and KMS keys are regional: it cannot encrypt in us-west-2/, /alias\/NAME/],
    at: 'kmsKeyId',
  },
  {
    name: 'China: the model fits on g5 in Beijing',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType: ml.g5.2xlarge`,
    regions: 'cn-north-1',
    verdict: 'valid',
    says: [/qwen: memory fits on ml\.g5\.2xlarge \(15\.7 of 21\.6 GiB usable\)/],
  },
  {
    name: 'China: a fallback type Beijing does not offer',
    deployment: `model:\n  ${hf()}\n  sizeGb: 15.2\n  ${QWEN_ARCH}\nengine: { name: vllm, args: ["--max-model-len", "8192"] }\ntarget: sagemaker-realtime\ninstanceType:\n  - ml.g5.2xlarge\n  - ml.g6.2xlarge`,
    regions: 'cn-north-1',
    verdict: 'refused',
    says: [/instanceType ml\.g6\.2xlarge is not offered in cn-north-1/],
    atText: '- ml.g6.2xlarge',
  },
  {
    name: 'Bedrock-only: a target: bedrock deployment validates and plans alone, no SageMaker stand-in priced',
    deployment: `target: bedrock\nmodel: { bedrock: ${BEDROCK_MODEL} }\nbedrockThroughput: { modelUnits: 1, commitment: none }`,
    environments: BEDROCK_ENVIRONMENTS,
    verdict: 'valid',
    says: [/qwen(: target | \()bedrock/],
    plan: /qwen: target bedrock: custom model arn:aws:bedrock:us-east-1:111111111111:custom-model\/\S+ \(account 111111111111, environment dev, us-east-1; base model amazon\.titan-text-express-v1:0:8k\)[\s\S]*cost: \$0\.00 a month/,
    never: [/sagemaker|ml\.\w+\.\w+|instance/i],
    planFiles: ['bedrock.json'],
  },
  {
    name: 'Bedrock-only: an instance type on a target: bedrock deployment is refused at its line',
    deployment: `target: bedrock\nmodel: { bedrock: ${BEDROCK_MODEL} }\ninstanceType: ml.g5.xlarge`,
    environments: BEDROCK_ENVIRONMENTS,
    verdict: 'refused',
    says: [/deployments\.qwen\.instanceType is set, and the deployment is target: bedrock: Bedrock serves the custom model on provisioned throughput \(bedrockThroughput\.modelUnits\), not on instances/, /Remove instanceType\./],
    at: 'instanceType',
  },
  {
    name: 'Bedrock-only: the model in a region its source environment does not run in',
    deployment: `target: bedrock\nmodel: { bedrock: ${BEDROCK_MODEL} }`,
    environments: BEDROCK_ENVIRONMENTS,
    regions: 'us-west-2',
    verdict: 'refused',
    says: [/deployments\.qwen\.model\.bedrock is a model of us-east-1, and its source environment dev runs in us-west-2/, /Valid regions for the model: us-west-2/],
    at: 'model',
  },
];

function specText(row: Row): string {
  const body = row.deployment
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `version: 1\nproject: acme\n${row.environments ? `${row.environments}\n` : ''}deployments:\n  qwen:\n${body}\n    regions: [${row.regions ?? 'us-east-1'}]\n`;
}

/** The line of the first `key:` of the deployment (1-based), as the messages give it. */
function lineOf(text: string, key: string): number {
  return text.split('\n').findIndex((l) => new RegExp(`^\\s+${key}:`).test(l)) + 1;
}

/** The line that holds this text (a list item). */
function lineWith(text: string, item: string): number {
  return text.split('\n').findIndex((l) => l.includes(item)) + 1;
}

describe('issue 22: will it deploy? (validate and plan over a table of specs)', () => {
  let hub: FakeHub;
  // HF_ENDPOINT, HF_HUB_OFFLINE and the row's variables, as they were before each row.
  const setEnvForRow = useEnv();
  beforeAll(async () => {
    hub = await startFakeHub({ 'Qwen/Qwen2.5-7B-Instruct': QWEN_7B, 'meta-llama/Llama-3.1-70B-Instruct': LLAMA_70B });
  });
  afterAll(() => hub.close());

  it('has at least 25 rows', () => expect(ROWS.length).toBeGreaterThanOrEqual(25));

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    setEnvForRow({ ...(row.hub ? { HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: undefined } : { HF_HUB_OFFLINE: '1' }), ...row.env });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-fit-'));
    const text = specText(row);
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), text);
    const validate = await runCli(dir, ['validate', '--config', 'model-deploy.yml']);
    const planned = await runCli(dir, ['plan', '--config', 'model-deploy.yml', '--out', 'plan-out']);
    for (const r of [validate, planned]) {
      // The exit code, with what was printed when it is not the expected one.
      expect(`exit ${r.code}\n${r.out}`).toMatch(new RegExp(`^exit ${row.verdict === 'valid' ? 0 : 2}\n`));
      for (const pattern of row.says) expect(r.out).toMatch(pattern);
      for (const pattern of row.never ?? []) expect(r.out).not.toMatch(pattern);
      if (row.plan && r === planned) expect(r.out).toMatch(row.plan);
      if (row.at) expect(r.out).toContain(`model-deploy.yml:${lineOf(text, row.at)}`);
      if (row.atText) expect(r.out).toContain(`model-deploy.yml:${lineWith(text, row.atText)}`);
      // Secrets never appear in output.
      if (row.env?.HF_TOKEN) expect(r.out).not.toContain(row.env.HF_TOKEN);
    }
    // A refused spec writes nothing.
    expect(fs.existsSync(path.join(dir, 'plan-out', 'qwen'))).toBe(row.verdict === 'valid');
    if (row.planFiles) expect(fs.readdirSync(path.join(dir, 'plan-out', 'qwen')).sort()).toEqual(row.planFiles);
    if (row.env?.HF_TOKEN) expect(hub.requests.some((q) => q.headers.authorization === `Bearer ${row.env?.HF_TOKEN}`)).toBe(true);
  });
});
