// What the stand-in hands out is the package itself (evaluated on first use).
export * from '@actions/exec/lib/exec';
