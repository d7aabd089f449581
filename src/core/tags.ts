/** AWS resource tags: a record (name -> value) as the list each API wants. */

/** `[{ Key, Value }]`: CloudFormation, Secrets Manager, ECR, STS session tags. */
export function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** `[{ key, value }]`: Bedrock's spelling. */
export function lowerCaseTagList(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}
