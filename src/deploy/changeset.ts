/**
 * Change sets: created under a name derived from the commit (so a create-only run on the PR and an
 * execute-only run after the merge agree), waited on with poll() under the run's deadline, read in
 * full, and rendered as markdown for the PR and the job summary.
 */
import type { Change, ChangeSetType, CloudFormationClient, DescribeChangeSetCommandOutput, ResourceChange } from '@aws-sdk/client-cloudformation';
import { DeployError, explainAwsError, isNotFound } from '../core/errors';
import { poll, PollOptions } from '../core/poll';
import type { RenderedStack } from './types';
import { CreateChangeSetCommand, DeleteChangeSetCommand, DescribeChangeSetCommand } from '@aws-sdk/client-cloudformation';

/** md-<sha7>: deterministic per commit; a valid change set name ([a-zA-Z][-a-zA-Z0-9]*, 128 max). */
export function changeSetName(sha: string | undefined, explicit?: string): string | undefined {
  if (explicit) return explicit;
  if (!sha) return undefined;
  return `md-${sha.slice(0, 7).toLowerCase()}`;
}

export function isValidChangeSetName(name: string): boolean {
  return /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(name);
}

export interface CreateChangeSetOptions {
  cfn: CloudFormationClient;
  rendered: RenderedStack;
  name: string;
  type: ChangeSetType;
  /** An unexecuted change set of the same name may exist (a re-run of the same commit): it is replaced. */
  stackExists: boolean;
  /** Set when the template went to S3 (over 51,200 bytes). */
  templateUrl?: string;
  description?: string;
}

/** Creates the change set, replacing an unexecuted one of the same name (a re-run of the same commit). */
export async function createChangeSet(options: CreateChangeSetOptions): Promise<string> {
  const { cfn, rendered, name } = options;
  if (options.stackExists) {
    try {
      await cfn.send(new DescribeChangeSetCommand({ StackName: rendered.stackName, ChangeSetName: name }));
      await cfn.send(new DeleteChangeSetCommand({ StackName: rendered.stackName, ChangeSetName: name }));
    } catch (err) {
      if (!isNotFound(err)) {
        throw explainAwsError(err, `Replacing change set ${name} of ${rendered.stackName}`);
      }
    }
  }
  try {
    const out = await cfn.send(
      new CreateChangeSetCommand({
        StackName: rendered.stackName,
        ChangeSetName: name,
        ChangeSetType: options.type,
        Description: options.description?.slice(0, 1024),
        TemplateBody: options.templateUrl ? undefined : rendered.templateBody,
        TemplateURL: options.templateUrl,
        Parameters: rendered.parameters,
        Capabilities: rendered.capabilities,
        Tags: rendered.tags,
        // The deploy role refuses a change set that does not name its resource types; CloudFormation then
        // refuses a template with any other type.
        ResourceTypes: [...new Set(Object.values(rendered.template.Resources as Record<string, { Type: string }>).map((r) => r.Type))].sort(),
      }),
    );
    return out.Id ?? name;
  } catch (err) {
    if (/AlreadyExists/.test((err as Error).name ?? '')) {
      throw new DeployError(`A change set named ${name} already exists on ${rendered.stackName}.`, {
        title: 'Change set exists',
        hint: `Delete it (aws cloudformation delete-change-set --stack-name ${rendered.stackName} --change-set-name ${name}) or pass another \`change-set-name\`.`,
      });
    }
    throw explainAwsError(err, `Creating change set ${name} on ${rendered.stackName}`);
  }
}

export interface ChangeSetDescription {
  id: string;
  name: string;
  status: string;
  statusReason?: string;
  executionStatus?: string;
  stackId?: string;
  changes: Change[];
}

export interface WaitOptions {
  cfn: CloudFormationClient;
  stackName: string;
  changeSet: string;
  deadline: number;
  signal?: AbortSignal;
  pollOverrides?: Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;
}

/** Waits until the change set is ready (or failed), then reads every page of its changes. */
export async function waitForChangeSet(options: WaitOptions): Promise<ChangeSetDescription> {
  const { cfn } = options;
  const now = options.pollOverrides?.now ?? Date.now;
  let first: DescribeChangeSetCommandOutput;
  try {
    ({ value: first } = await poll<DescribeChangeSetCommandOutput>({
      check: () => cfn.send(new DescribeChangeSetCommand({ StackName: options.stackName, ChangeSetName: options.changeSet })),
      done: (cs) => !/_PENDING$|_IN_PROGRESS$/.test(cs.Status ?? 'CREATE_PENDING'),
      what: `change set ${options.changeSet} of ${options.stackName}`,
      initialDelayMs: 2000,
      maxDelayMs: 10000,
      timeoutMs: Math.max(0, options.deadline - now()),
      signal: options.signal,
      ...options.pollOverrides,
    }));
  } catch (err) {
    throw explainAwsError(err, `Waiting for change set ${options.changeSet}`);
  }
  const changes = [...(first.Changes ?? [])];
  let next = first.NextToken;
  while (next) {
    try {
      const page = await cfn.send(new DescribeChangeSetCommand({ StackName: options.stackName, ChangeSetName: options.changeSet, NextToken: next }));
      changes.push(...(page.Changes ?? []));
      next = page.NextToken;
    } catch (err) {
      throw explainAwsError(err, `Reading change set ${options.changeSet}`);
    }
  }
  return {
    id: first.ChangeSetId ?? options.changeSet,
    name: first.ChangeSetName ?? options.changeSet,
    status: first.Status ?? 'UNKNOWN',
    statusReason: first.StatusReason,
    executionStatus: first.ExecutionStatus,
    stackId: first.StackId,
    changes,
  };
}

export async function deleteChangeSet(cfn: CloudFormationClient, stackName: string, changeSet: string): Promise<void> {
  try {
    await cfn.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSet }));
  } catch (err) {
    throw explainAwsError(err, `Deleting change set ${changeSet}`);
  }
}

// ---- markdown ---------------------------------------------------------------------------------

/** GitHub refuses comments over 65,536 characters; keep room for what callers wrap around it. */
export const MARKDOWN_LIMIT = 60000;

type Kind = 'add' | 'modify' | 'replace' | 'maybe-replace' | 'remove' | 'import' | 'other';

export function changeKind(rc: ResourceChange): Kind {
  switch (rc.Action) {
    case 'Add':
      return 'add';
    case 'Remove':
      return 'remove';
    case 'Import':
      return 'import';
    case 'Modify':
      if (rc.Replacement === 'True') return 'replace';
      if (rc.Replacement === 'Conditional') return 'maybe-replace';
      return 'modify';
    default:
      return 'other';
  }
}

const LABEL: Record<Kind, string> = {
  add: '🟢 Add',
  modify: '🔵 Modify',
  replace: '🔴 Replace',
  'maybe-replace': '🟠 May replace',
  remove: '⚫ Remove',
  import: '🟣 Import',
  other: '⚪ Change',
};

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function detailLines(rc: ResourceChange): string[] {
  const lines: string[] = [];
  if (rc.PhysicalResourceId) lines.push(`- Physical id: \`${rc.PhysicalResourceId}\``);
  if (rc.Replacement === 'True') lines.push('- **Replacement: the resource is created anew and the old one deleted.**');
  if (rc.Replacement === 'Conditional') lines.push('- **Replacement: conditional** (depends on values known only at deploy time).');
  for (const d of rc.Details ?? []) {
    const t = d.Target;
    if (!t) continue;
    const what = t.Name ? `${t.Attribute ?? 'Properties'}.${t.Name}` : t.Attribute ?? 'resource';
    const recreate = t.RequiresRecreation && t.RequiresRecreation !== 'Never' ? ` (recreation: ${t.RequiresRecreation})` : '';
    const cause = d.CausingEntity ? ` ← ${d.CausingEntity}` : d.ChangeSource ? ` ← ${d.ChangeSource}` : '';
    lines.push(`- \`${what}\`${recreate}${cause}`);
  }
  return lines;
}

export interface MarkdownOptions {
  stackName: string;
  changeSetName?: string;
  region?: string;
  limit?: number;
}

/** The change set as markdown: a headline with the counts, then one <details> block per resource. */
export function renderChangesMarkdown(changes: Change[], options: MarkdownOptions): string {
  const resources = changes.map((c) => c.ResourceChange).filter((rc): rc is ResourceChange => Boolean(rc));
  const where = `\`${options.stackName}\`${options.region ? ` (${options.region})` : ''}`;
  if (resources.length === 0) return `### Change set for ${where}\n\nNo changes.\n`;
  const counts = new Map<Kind, number>();
  for (const rc of resources) counts.set(changeKind(rc), (counts.get(changeKind(rc)) ?? 0) + 1);
  const order: Kind[] = ['replace', 'maybe-replace', 'remove', 'modify', 'add', 'import', 'other'];
  const headline = order
    .filter((k) => counts.get(k))
    .map((k) => `${counts.get(k)} ${LABEL[k].split(' ').slice(1).join(' ').toLowerCase()}`)
    .join(', ');
  const parts = [`### Change set for ${where}${options.changeSetName ? `: \`${options.changeSetName}\`` : ''}`, '', `**${resources.length} resource${resources.length === 1 ? '' : 's'}**: ${headline}`, ''];
  const replaced = resources.filter((rc) => changeKind(rc) === 'replace');
  if (replaced.length > 0) {
    parts.push(`> [!WARNING]\n> Replaced (new resource, old one deleted): ${replaced.map((rc) => `\`${rc.LogicalResourceId}\``).join(', ')}`, '');
  }
  const limit = options.limit ?? MARKDOWN_LIMIT;
  let length = parts.join('\n').length;
  // Most consequential first: replacements and removals are what a reviewer must not miss.
  const sorted = [...resources].sort((a, b) => order.indexOf(changeKind(a)) - order.indexOf(changeKind(b)));
  let shown = 0;
  for (const rc of sorted) {
    const details = detailLines(rc);
    const block =
      `<details><summary>${LABEL[changeKind(rc)]} <code>${escapeHtml(rc.LogicalResourceId ?? '?')}</code> (${escapeHtml(rc.ResourceType ?? '?')})</summary>\n\n` +
      `${details.length ? details.join('\n') : '- (no property details)'}\n\n</details>`;
    if (length + block.length + 200 > limit) break;
    parts.push(block);
    length += block.length + 1;
    shown++;
  }
  if (shown < sorted.length) parts.push('', `…and ${sorted.length - shown} more (the full list: \`aws cloudformation describe-change-set --stack-name ${options.stackName} --change-set-name ${options.changeSetName ?? 'NAME'}\`).`);
  return `${parts.join('\n')}\n`;
}
