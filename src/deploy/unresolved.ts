/**
 * A deploy must never ship a placeholder: an offline plan renders `{{build-model.outputs.…}}` where
 * build-model's outputs go, and a workflow that forgets to wire them would deploy that literal text.
 * These checks run before anything mutates (no secret, no change set).
 */
import { DeployError, throwIfAny } from '../core/errors';
import type { Deployment } from '../config/types';
import type { DeployRequest } from './region';
import type { RenderedStack } from './types';

const PLACEHOLDER = /\{\{[^}]*\}\}/;

function missing(value: string | undefined): boolean {
  return !value?.trim() || PLACEHOLDER.test(value);
}

function unwired(input: 'image-uri' | 'model-data-url', value: string | undefined, why: string): DeployError {
  const what = value?.trim() ? `is the unresolved placeholder ${value}` : 'is empty';
  return new DeployError(`${input} ${what}: ${why}`, {
    title: 'Unresolved input',
    hint: `Pass \`${input}: \${{ steps.build.outputs.${input} }}\` from the build-model step (give it \`id: build\`), or set the value in the spec.`,
  });
}

/** The image and the weights location the deployment needs, each given and resolved. */
export function checkInputsResolved(d: Deployment, request: Pick<DeployRequest, 'imageUri' | 'modelDataUrl'>): void {
  const errors: DeployError[] = [];
  const image = request.imageUri ?? d.model.image;
  if (missing(image)) errors.push(unwired('image-uri', image, `deployment ${d.name} has no model.image, so the image comes from build-model's image-uri output.`));
  // Hugging Face weights not baked into the image live in S3 where build-model put them.
  const needsWeights = Boolean(d.model.huggingface) && !d.model.bakeIntoImage;
  const weights = request.modelDataUrl ?? d.model.s3;
  if ((needsWeights && missing(weights)) || (weights !== undefined && PLACEHOLDER.test(weights))) {
    errors.push(unwired('model-data-url', weights, `deployment ${d.name} serves ${d.model.huggingface?.id ?? 'its model'} from S3, so the weights location comes from build-model's model-data-url output.`));
  }
  throwIfAny(errors);
}

/** Last line of defence: no rendered parameter may still hold a placeholder. */
export function checkRenderedResolved(rendered: RenderedStack): void {
  const left = rendered.parameters.filter((p) => PLACEHOLDER.test(p.ParameterValue ?? ''));
  if (left.length === 0) return;
  throw new DeployError(`The template still holds placeholders: ${left.map((p) => `${p.ParameterKey}=${p.ParameterValue}`).join(', ')}.`, {
    title: 'Unresolved input',
    hint: "Wire build-model's outputs (image-uri, model-data-url) into deploy-endpoint's inputs of the same names.",
  });
}
