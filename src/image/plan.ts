/** The build part of `model-deploy plan`: the rendered buildspec and Dockerfile, offline. */
import type { Deployment } from '../config/types';
import type { PlanPart } from '../core/plan-part';
import { DeployError } from '../core/errors';
import { renderBuild } from './render';

export function planBuild(d: Deployment): PlanPart {
  if (d.model.image) {
    const copies = d.regions.length > 1 ? ' (build-model copies them into the artifact bucket of each region the bucket is not in)' : '';
    const files = d.model.s3 ? `, model files from ${d.model.s3}${copies}` : '';
    return { files: [], summary: [`${d.name}: prebuilt image ${d.model.image}, no build${files}`] };
  }
  const region = d.regions[0];
  // The schema requires at least one region; a deployment without one never reaches a plan.
  if (!region) throw new DeployError(`deployment ${d.name} has no regions`, { location: d.source });
  const r = renderBuild(d, { region });
  const files = [{ path: 'build/buildspec.yml', content: r.buildspec }];
  let what: string;
  if (r.customDockerfile) {
    files.push({
      path: 'build/Dockerfile.txt',
      content:
        `engine custom: the image is built from ${r.customDockerfile}\n` +
        `with its folder as the build context. The gateway files are in the context at model-deploy/serving/:\n` +
        `COPY model-deploy/serving/ /opt/model-deploy/ and ENTRYPOINT ["/opt/model-deploy/serve.sh"] keep the serving contract;\n` +
        `the gateway (nginx) comes from a build stage on your base: FROM <your base> AS gateway,\n` +
        `COPY model-deploy/serving/build-nginx.sh /tmp/, RUN bash /tmp/build-nginx.sh /opt/model-deploy/nginx, then in the\n` +
        `final stage COPY --from=gateway /opt/model-deploy/nginx /opt/model-deploy/nginx (docs/deploying.md, "The serving gateway").\n`,
    });
    what = `custom Dockerfile ${d.engine?.dockerfile}`;
  } else {
    files.push({ path: 'build/Dockerfile', content: r.dockerfile });
    what = `${r.engine.name} ${r.engine.version} on ${r.engine.baseImage}`;
  }
  const weights =
    r.weights.kind === 'huggingface' ? 'weights to S3 (uncompressed prefix)' : r.weights.kind === 'baked' ? 'weights baked into the image' : r.weights.kind === 's3' ? `weights from ${d.model.s3}` : 'no weights';
  const regions = d.regions.length > 1 ? ` (base image for ${region}; other regions pull from their own registry)` : '';
  return { files, summary: [`${d.name}: build ${what}, ${weights}, tag ${r.tag}, CodeBuild ${d.build.computeType}${regions}`] };
}
