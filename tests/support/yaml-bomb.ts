/** A "billion laughs" YAML document: 5 levels of 10 aliases, 100,000 nodes once expanded. */
export const YAML_ALIAS_BOMB =
  'a: &a [x, x, x, x, x, x, x, x, x, x]\n' +
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n' +
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n' +
  'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n';
