/** Templates as the product reads them: every test parses CloudFormation text with src/deploy/template-loader. */
import * as fs from 'fs';
import * as path from 'path';
import { inlineIncludes, parseTemplate } from '../../../src/deploy/template-loader';
import { ROOT } from '../bundle';

export type Template = Record<string, any>;

/** A template of this repository by its path from the root (templates/bootstrap/model-deploy-bootstrap.yaml), its includes inlined. */
export function readTemplate(relative: string): Template {
  const file = path.join(ROOT, relative);
  return inlineIncludes(parseTemplate(fs.readFileSync(file, 'utf8'), relative), path.dirname(file), relative) as Template;
}

/** A template body as CloudFormation receives it (JSON, or YAML with the short-form tags). */
export function parseTemplateBody(body: string, file = 'TemplateBody'): Template {
  return parseTemplate(body, file) as Template;
}
