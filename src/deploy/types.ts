/** The contract between the stack templates (src/deploy/render.ts) and the deploy flow. */
import type { TargetNames } from '../config/select';
import type { Deployment, EnvironmentSpec } from '../config/types';

export interface RenderStackInput {
  deployment: Deployment;
  /** The target's names (config/select.ts computes them once): the stack, the endpoint, the build's repository. */
  names: Pick<TargetNames, 'stack' | 'endpoint' | 'repository'>;
  region: string;
  environmentName?: string;
  environment?: EnvironmentSpec;
  /** Serving image (build-model output); default model.image from the spec. */
  imageUri?: string;
  /** Weights in S3 (build-model output); default model.s3 from the spec. */
  modelDataUrl?: string;
  /** API-key secret (ec2, ecs), from ensureApiKeySecret in src/keys. */
  apiKeySecretArn?: string;
  /** Account deployed to (ARNs, default bucket); default environment.account, else a placeholder (offline plan). */
  account?: string;
}

export interface RenderedStack {
  stackName: string;
  /** Which file in templates/stacks/ it came from. */
  templateFile: string;
  /** The template as an object, and as the text sent to CloudFormation. */
  template: Record<string, unknown>;
  templateBody: string;
  parameters: { ParameterKey: string; ParameterValue: string }[];
  capabilities: ('CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | 'CAPABILITY_AUTO_EXPAND')[];
  tags: { Key: string; Value: string }[];
  terminationProtection: boolean;
  endpointName: string;
  /** Spec settings adjusted or ignored for this target, worth a warning. */
  notes?: string[];
  /** The download and start-up budgets and where each comes from (src/deploy/budgets.ts), for the plan and the log. */
  budget?: string;
}
