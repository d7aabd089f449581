/** The actions by folder name: the root action's dispatcher needs only these (a test checks them against ./index). */
export const ACTION_NAMES = ['build-model', 'deploy-endpoint', 'rotate-key', 'promote-model', 'estimate-cost', 'cost-report'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];
