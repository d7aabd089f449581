/** What `model-deploy plan` writes: files under the output folder, and lines for the summary. */
export interface PlanFile {
  /** Relative to the plan's output folder. */
  path: string;
  content: string;
}

export interface PlanPart {
  files: PlanFile[];
  summary: string[];
}
